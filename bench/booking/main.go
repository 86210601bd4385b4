// Command booking fires 10,000 simultaneous reservations at the 100 slots of
// one resource through core/booking, as the application role, and checks
// that exactly 100 are confirmed and every other attempt is refused as
// taken. Then it runs pgbench's TPC-B on the same throwaway PostgreSQL with
// as many clients as the engine had connections, for the same wall time,
// and prints both rates as one JSON object on the last line. It exits
// non-zero when the counts are not exact.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // the resource's zone must not depend on the machine

	"github.com/sportello/sportello/core/booking"
	"github.com/sportello/sportello/core/pgcluster"
	"github.com/sportello/sportello/core/store"
	"github.com/sportello/sportello/core/store/pgtest"
)

const targetRatio = 0.3

// profile names the CPU profile file; "" for none.
var profile string

type bookingResult struct {
	Attempts    int     `json:"attempts"`
	Slots       int     `json:"slots"`
	Confirmed   int64   `json:"confirmed"`
	Taken       int64   `json:"taken_409"`
	OtherErrors int64   `json:"other_errors"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"attempts_per_s"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
}

type pgbenchResult struct {
	Clients int     `json:"clients"`
	Threads int     `json:"threads"`
	Scale   int     `json:"scale"`
	Seconds int     `json:"seconds"`
	TPS     float64 `json:"tps"`
}

func main() {
	attempts := flag.Int("n", 10000, "reservation attempts, all at once")
	slots := flag.Int("slots", 100, "slots of the resource (5 minutes each, from 08:00)")
	conns := flag.Int("c", 16, "connections of the engine's pool, and pgbench clients")
	scale := flag.Int("scale", 0, "pgbench scale factor (default: one branch per client, so TPC-B does not queue on one row)")
	flag.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the reservations to this file")
	flag.Parse()
	if *scale <= 0 {
		*scale = *conns
	}
	if *slots < 1 || *slots > 288 || *attempts < *slots || *conns < 1 {
		fmt.Fprintln(os.Stderr, "bench-booking: want 1-288 slots, at least as many attempts, and at least one connection")
		os.Exit(2)
	}
	ok, err := run(*attempts, *slots, *conns, *scale)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-booking:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(attempts, nslots, conns, scale int) (bool, error) {
	ctx := context.Background()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		return false, err
	}
	defer pg.Stop()
	db, drop, err := pg.CreateDB(ctx)
	if err != nil {
		return false, err
	}
	defer drop()
	app, err := store.Open(ctx, db.AppURL, conns)
	if err != nil {
		return false, err
	}
	defer app.Close()

	eng := booking.New(app, time.Now)
	tenant, resource, slots, err := setUp(ctx, app, eng, nslots)
	if err != nil {
		return false, err
	}
	// Open the pool's connections before the clock starts, as pgbench
	// reports its rate without its connection time.
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = eng.Slots(ctx, tenant, resource, slots[0])
		}()
	}
	wg.Wait()

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return false, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return false, err
		}
	}
	res := reserve(ctx, eng, tenant, resource, slots, attempts)
	pprof.StopCPUProfile()
	fmt.Fprintf(os.Stderr, "booking: %d attempts in %.2f s: %d confirmed, %d taken, %d other errors\n",
		res.Attempts, res.Seconds, res.Confirmed, res.Taken, res.OtherErrors)
	exact := res.Confirmed == int64(nslots) && res.Taken == int64(attempts-nslots) && res.OtherErrors == 0
	var stored, distinct int
	if err := db.Owner.NewRaw("SELECT count(*), count(DISTINCT lower(period)) FROM bookings WHERE status = 'confirmed'").
		Scan(ctx, &stored, &distinct); err != nil {
		return false, err
	}
	if stored != nslots || distinct != nslots {
		fmt.Fprintf(os.Stderr, "booking: %d confirmed rows on %d distinct slots, want %d\n", stored, distinct, nslots)
		exact = false
	}

	// TPC-B on its own database of the same server.
	pgb, dropPGB, err := pg.CreateDB(ctx)
	if err != nil {
		return false, err
	}
	defer dropPGB()
	secs := max(1, int(math.Ceil(res.Seconds)))
	tps, err := pgbench(ctx, pgb.OwnerURL, conns, min(conns, runtime.NumCPU()), scale, secs)
	if err != nil {
		return false, err
	}
	ratio := 0.0
	if tps.TPS > 0 {
		ratio = res.PerSecond / tps.TPS
	}
	out := map[string]any{
		"bench":        "booking",
		"cores":        runtime.NumCPU(),
		"connections":  conns,
		"booking":      res,
		"pgbench":      tps,
		"ratio":        round(ratio),
		"exact":        exact,
		"target":       fmt.Sprintf("exactly %d confirmed, every other attempt a 409, no other error; attempts_per_s >= %.0f%% of pgbench tps", nslots, targetRatio*100),
		"meets_target": exact && ratio >= targetRatio,
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return exact, nil
}

// setUp makes a tenant and a desk open from 08:00 with nslots slots of 5
// minutes, on one day only: the day after tomorrow in Rome.
func setUp(ctx context.Context, app *store.DB, eng *booking.Engine, nslots int) (int64, int64, []time.Time, error) {
	var tenant int64
	if err := app.NewRaw("INSERT INTO tenants (slug, name, languages) VALUES ('bench', 'Bench', '{it}') RETURNING id").Scan(ctx, &tenant); err != nil {
		return 0, 0, nil, err
	}
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return 0, 0, nil, err
	}
	day := time.Now().In(rome).AddDate(0, 0, 2)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	r, err := eng.DefineResource(ctx, tenant, booking.Resource{Kind: booking.Desk, Slug: "anagrafe",
		Name: map[string]string{"it": "Anagrafe"}, Calendar: booking.Calendar{TimeZone: "Europe/Rome", SlotMinutes: 5}})
	if err != nil {
		return 0, 0, nil, err
	}
	closes := 8*60 + 5*nslots
	err = eng.SetHours(ctx, tenant, r.ID, []booking.Hours{{Name: "bench", Weekdays: []time.Weekday{day.Weekday()},
		Opens: "08:00", Closes: fmt.Sprintf("%02d:%02d", closes/60, closes%60), ValidFrom: day, ValidTo: day}})
	if err != nil {
		return 0, 0, nil, err
	}
	free, err := eng.Slots(ctx, tenant, r.ID, day)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(free) != nslots {
		return 0, 0, nil, fmt.Errorf("the resource offers %d slots, want %d", len(free), nslots)
	}
	starts := make([]time.Time, len(free))
	for i, s := range free {
		starts[i] = s.Start
	}
	return tenant, r.ID, starts, nil
}

// reserve starts every attempt at once, attempt i on slot i mod len(slots),
// and counts the outcomes.
func reserve(ctx context.Context, eng *booking.Engine, tenant, resource int64, slots []time.Time, attempts int) bookingResult {
	var confirmed, taken, other atomic.Int64
	var firstErr sync.Once
	lat := make([]time.Duration, attempts)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			t0 := time.Now()
			_, err := eng.Reserve(ctx, tenant, booking.Request{Resource: resource, Start: slots[i%len(slots)],
				Contact: booking.Contact{Name: "Bench " + strconv.Itoa(i), Email: "bench" + strconv.Itoa(i) + "@example.org"}})
			lat[i] = time.Since(t0)
			switch {
			case err == nil:
				confirmed.Add(1)
			case errors.Is(err, booking.ErrSlotTaken):
				taken.Add(1)
			default:
				other.Add(1)
				firstErr.Do(func() { fmt.Fprintln(os.Stderr, "booking: first unexpected error:", err) })
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) float64 { return round(float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000) }
	return bookingResult{Attempts: attempts, Slots: len(slots), Confirmed: confirmed.Load(), Taken: taken.Load(),
		OtherErrors: other.Load(), Seconds: round(elapsed), PerSecond: round(float64(attempts) / elapsed),
		P50ms: pct(0.5), P99ms: pct(0.99)}
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// pgbench initialises TPC-B's tables in the database of ownerURL and runs
// the benchmark for secs seconds. It runs the system's pgbench, as the
// unprivileged postgres user when this process is root, as the server does.
func pgbench(ctx context.Context, ownerURL string, clients, threads, scale, secs int) (pgbenchResult, error) {
	res := pgbenchResult{Clients: clients, Threads: threads, Scale: scale, Seconds: secs}
	bin, err := pgbenchBinary()
	if err != nil {
		return res, err
	}
	u, err := url.Parse(ownerURL)
	if err != nil {
		return res, err
	}
	conn := []string{"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username()}
	dbname := filepath.Base(u.Path)
	if _, err := pgbenchRun(ctx, bin, append(append([]string{"-i", "-q", "-s", strconv.Itoa(scale)}, conn...), dbname)...); err != nil {
		return res, fmt.Errorf("pgbench -i: %w", err)
	}
	out, err := pgbenchRun(ctx, bin, append(append([]string{"-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(secs)}, conn...), dbname)...)
	if err != nil {
		return res, fmt.Errorf("pgbench: %w", err)
	}
	m := tpsLine.FindStringSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("pgbench printed no tps line:\n%s", out)
	}
	res.TPS, _ = strconv.ParseFloat(m[1], 64)
	res.TPS = round(res.TPS)
	fmt.Fprintf(os.Stderr, "pgbench: TPC-B, scale %d, %d clients, %d threads, %d s: %.0f tps\n", scale, clients, threads, secs, res.TPS)
	return res, nil
}

func pgbenchBinary() (string, error) {
	if dir, err := pgcluster.FindBinaries(); err == nil {
		if p := filepath.Join(dir, "pgbench"); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("pgbench")
	if err != nil {
		return "", fmt.Errorf("pgbench not found (Debian: apt-get install postgresql-contrib, or postgresql 15+ which ships it): %w", err)
	}
	return p, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func pgbenchRun(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = os.TempDir() // the working folder may be closed to the postgres user
	cmd.Env = append(os.Environ(), "PGPASSFILE="+os.DevNull)
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root, pgbench runs as the user postgres, and there is none: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
		cmd.Env = append(cmd.Env, "HOME="+u.HomeDir)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, out)
	}
	return string(out), nil
}

func round(f float64) float64 { return math.Round(f*100) / 100 }
