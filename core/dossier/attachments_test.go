package dossier_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	imgpng "image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/core/dossier"
)

// pdf is a small PDF-looking file (the signature is what matters).
func pdf(body string) string {
	return "%PDF-1.7\n1 0 obj\n<< /Title (" + body + ") >>\nendobj\ntrailer\n%%EOF\n"
}

func png() string {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := imgpng.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.String()
}

func jpg() string {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		panic(err)
	}
	return b.String()
}

func TestAttachments(t *testing.T) {
	e := newEnvWithLimit(t, 4096)
	tid := e.tenant("alpha")
	op := e.staff(tid, "Anna")
	d := e.open(tid, op, dossier.NewDossier{Title: "Permit"})

	cases := []struct {
		name    string
		file    string
		content string
		want    error  // nil: stored
		ctype   string // when stored
	}{
		{"pdf", "domanda.pdf", pdf("ok"), nil, "application/pdf"},
		{"png", "Foto.PNG", png(), nil, "image/png"},
		{"jpeg", "scan.jpeg", jpg(), nil, "image/jpeg"},
		{"jpg", `C:\Users\me\scan.jpg`, jpg(), nil, "image/jpeg"},
		{"exactly the limit", "big.pdf", pdf(strings.Repeat("a", 4096-len(pdf("")))), nil, "application/pdf"},
		{"one byte too large", "big.pdf", pdf(strings.Repeat("a", 4097-len(pdf("")))), dossier.ErrTooLarge, ""},
		{"far too large", "huge.pdf", pdf(strings.Repeat("a", 1<<20)), dossier.ErrTooLarge, ""},
		{"plain text", "notes.txt", "just some text", dossier.ErrFileType, ""},
		{"html named pdf", "invoice.pdf", "<html><script>alert(1)</script></html>", dossier.ErrFileType, ""},
		{"program named pdf", "tool.pdf", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", dossier.ErrFileType, ""},
		{"png named jpg", "photo.jpg", png(), dossier.ErrFileType, ""},
		{"pdf named png", "photo.png", pdf("x"), dossier.ErrFileType, ""},
		{"pdf with no extension", "domanda", pdf("x"), dossier.ErrFileType, ""},
		{"pdf signature after junk", "late.pdf", "   \n" + pdf("x"), dossier.ErrFileType, ""},
		{"svg", "logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, dossier.ErrFileType, ""},
		{"empty", "empty.pdf", "", dossier.ErrInvalid, ""},
		{"no name", "", pdf("x"), dossier.ErrInvalid, ""},
		{"path only", "../", pdf("x"), dossier.ErrInvalid, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur, err := e.store.Get(ctx, tid, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			a, err := e.store.Attach(ctx, tid, d.ID, cur.Version, op, dossier.NewFile{Name: c.file, Content: strings.NewReader(c.content)})
			if c.want != nil {
				wantErr(t, c.name, err, c.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(c.content))
			if a.ContentType != c.ctype || a.Size != int64(len(c.content)) || a.SHA256 != hex.EncodeToString(sum[:]) ||
				strings.ContainsAny(a.Name, `/\`) || a.DossierID != d.ID {
				t.Fatalf("stored %+v", a)
			}
			got, r, err := e.store.OpenAttachment(ctx, tid, d.ID, a.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			body, _ := io.ReadAll(r)
			if string(body) != c.content || got.ID != a.ID {
				t.Fatalf("read back %d bytes, stored %d", len(body), len(c.content))
			}
		})
	}
	t.Run("refusals leave no file behind", func(t *testing.T) {
		tmp, _ := os.ReadDir(filepath.Join(e.dir, "tmp"))
		if len(tmp) != 0 {
			t.Fatalf("temporary files left: %d", len(tmp))
		}
		var stored int
		_ = filepath.WalkDir(filepath.Join(e.dir), func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				stored++
			}
			return nil
		})
		// pdf, png, jpeg (the jpg twice: same content, one file), the limit.
		if stored != 4 {
			t.Fatalf("%d files in the folder, want 4", stored)
		}
		if n := e.count("SELECT count(*) FROM dossier_attachments"); n != 5 {
			t.Fatalf("%d attachment rows, want 5", n)
		}
	})
	t.Run("a damaged file is refused on reading", func(t *testing.T) {
		a, err := e.store.Attach(ctx, tid, d.ID, dossier.AnyVersion, op, dossier.NewFile{Name: "x.pdf", Content: strings.NewReader(pdf("fragile"))})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(e.dir, strconv.FormatInt(tid, 10), a.SHA256[:2], a.SHA256)
		if err := os.WriteFile(path, []byte(pdf("tampered")), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.store.OpenAttachment(ctx, tid, d.ID, a.ID, false)
		wantErr(t, "tampered", err, dossier.ErrCorrupt)
		os.Remove(path)
		_, _, err = e.store.OpenAttachment(ctx, tid, d.ID, a.ID, false)
		if err == nil || errors.Is(err, dossier.ErrNotFound) {
			t.Fatalf("missing file: %v, want an internal error", err)
		}
	})
	t.Run("an attachment of another dossier is not found by this one", func(t *testing.T) {
		other := e.open(tid, op, dossier.NewDossier{Title: "Other"})
		list, _ := e.store.Attachments(ctx, tid, d.ID, false)
		_, _, err := e.store.OpenAttachment(ctx, tid, other.ID, list[0].ID, false)
		wantErr(t, "OpenAttachment", err, dossier.ErrNotFound)
	})
}

// A form's upload waits for its dossier; only its uploader (and, when
// bound, its request) can file it.
func TestPendingUploads(t *testing.T) {
	e := newEnv(t)
	tid := e.tenant("alpha")
	anna := dossier.Citizen(e.citizen(tid, "Anna", "anna@example.org"), "Anna")
	bruno := dossier.Citizen(e.citizen(tid, "Bruno", "bruno@example.org"), "Bruno")
	anon := dossier.Actor{Kind: dossier.ActorAnonymous}

	up := func(by dossier.Actor, req, name, content string) *dossier.Attachment {
		t.Helper()
		a, err := e.store.Upload(ctx, tid, by, req, dossier.NewFile{Name: name, Content: strings.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		if a.DossierID != 0 {
			t.Fatalf("pending upload on dossier %d", a.DossierID)
		}
		return a
	}
	annas := up(anna, "req-1", "id.pdf", pdf("anna"))
	brunos := up(bruno, "", "id.png", png())
	anons := up(anon, "req-anon", "photo.jpg", jpg())

	_, err := e.store.Upload(ctx, tid, anon, "", dossier.NewFile{Name: "a.pdf", Content: strings.NewReader(pdf("x"))})
	wantField(t, "anonymous upload without a request", err, "request", "required")
	_, err = e.store.Upload(ctx, tid, anna, "", dossier.NewFile{Name: "a.pdf", Internal: true, Content: strings.NewReader(pdf("x"))})
	wantField(t, "internal upload by a citizen", err, "internal", "invalid")

	refused := []struct {
		name string
		by   dossier.Actor
		req  string
		ids  []int64
	}{
		{"someone else's", anna, "req-1", []int64{brunos.ID}},
		{"mine and someone else's", anna, "req-1", []int64{annas.ID, brunos.ID}},
		{"from another request", anna, "req-2", []int64{annas.ID}},
		{"an anonymous one from another request", anon, "req-other", []int64{anons.ID}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.store.Open(ctx, tid, c.by, dossier.NewDossier{ServiceID: "helpdesk", Title: "x", RequestID: c.req, AttachmentIDs: c.ids})
			wantField(t, c.name, err, "attachments", "unknown")
		})
	}
	d := e.open(tid, anna, dossier.NewDossier{Title: "mine", CitizenID: anna.ID, RequestID: "req-1", AttachmentIDs: []int64{annas.ID, annas.ID}})
	files, err := e.store.Attachments(ctx, tid, d.ID, true)
	if err != nil || len(files) != 1 || files[0].ID != annas.ID {
		t.Fatalf("linked %+v %v", files, err)
	}
	_, err = e.store.Open(ctx, tid, anna, dossier.NewDossier{ServiceID: "helpdesk", Title: "again", RequestID: "req-1", AttachmentIDs: []int64{annas.ID}})
	wantField(t, "an upload filed already", err, "attachments", "unknown")
	e.open(tid, anon, dossier.NewDossier{Title: "anonymous report", RequestID: "req-anon", AttachmentIDs: []int64{anons.ID}})
}
