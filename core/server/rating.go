package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/sportello/sportello/web"
)

// The page rating: every page of a town ends with "how clear is the
// information on this page?" (templates/partials/rating.html). Anyone may
// answer, signed in or not; what is kept (table page_ratings) names no
// person: the page, the stars, the follow-up answer, the optional details
// and the language.

const (
	maxRatingPath    = 300 // bytes of the page's path below the town
	maxRatingComment = 200 // characters of the optional details
)

// ratingAnswerFits says whether answer is a code of the follow-up question
// that goes with stars: what went well for 4 or 5 stars, where it was hard
// for 1 to 3. The codes are those of the widget's radios and of the table's
// check.
func ratingAnswerFits(stars int, answer string) bool {
	if stars < 1 || stars > 5 {
		return false
	}
	return slices.ContainsFunc(web.RatingAnswers(stars >= 4), func(a web.RatingAnswer) bool { return a.Code == answer })
}

// ratingPathValid says whether p can be a page of the town: a path below
// it, so it never leads elsewhere once put under the town's base, nor up
// or into another town or the platform.
func ratingPathValid(p string) bool {
	if p == "" || len(p) > maxRatingPath || p[0] != '/' || strings.HasPrefix(p, "//") || !utf8.ValidString(p) {
		return false
	}
	if strings.ContainsAny(p, "\\?#") || strings.HasPrefix(p, "/t/") || p == "/platform" || strings.HasPrefix(p, "/platform/") {
		return false
	}
	for _, r := range p {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// checkRating reads a posted rating. It returns the message id of the
// first thing wrong with it ("" when it is fine) and the form's values,
// kept to be shown again; the path is "" when it was refused.
func checkRating(path, stars, answer, comment string) (web.Rating, string) {
	r := web.Rating{Answer: answer}
	// A textarea posts its line breaks as CRLF, which its maxlength counts
	// as one character.
	r.Comment = strings.TrimSpace(strings.ReplaceAll(comment, "\r\n", "\n"))
	n, err := strconv.Atoi(strings.TrimSpace(stars))
	if err == nil && n >= 1 && n <= 5 {
		r.Stars = n
	}
	pathOK := ratingPathValid(path)
	if pathOK {
		r.Path = path
	}
	switch {
	case !pathOK:
		return r, "rating.error.path"
	case r.Stars == 0:
		return r, "rating.error.stars"
	case !ratingAnswerFits(r.Stars, answer):
		return r, "rating.error.answer"
	case !utf8.ValidString(r.Comment) || utf8.RuneCountInString(r.Comment) > maxRatingComment:
		return r, "rating.error.comment"
	}
	for _, c := range r.Comment {
		if unicode.IsControl(c) && c != '\n' && c != '\t' {
			return r, "rating.error.comment"
		}
	}
	return r, ""
}

// rate takes a page rating: back to the rated page with thanks, or as JSON
// for the widget's script; a refused one comes back with the reason (422).
func (s *Server) rate(c *fiber.Ctx) error {
	rs := state(c)
	in, errID := checkRating(strings.Clone(c.FormValue("path")), c.FormValue("stars"),
		strings.Clone(c.FormValue("answer")), strings.Clone(c.FormValue("comment")))
	if errID != "" {
		msg := s.i18n.T(rs.lang, errID, nil)
		if wantsJSON(c) {
			return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": msg,
				"code": strings.TrimPrefix(errID, "rating.error."), "status": fiber.StatusUnprocessableEntity})
		}
		p := s.page(c, "rating", s.i18n.T(rs.lang, "rating.page.title", nil))
		in.Error = msg
		p.Rating = in
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, p)
	}
	err := s.DB.InTenant(c.UserContext(), rs.tenant.ID, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO page_ratings (tenant_id, path, stars, answer, comment, lang) VALUES (?, ?, ?, ?, ?, ?)",
			rs.tenant.ID, in.Path, in.Stars, in.Answer, in.Comment, rs.lang)
		return err
	})
	if err != nil {
		return fmt.Errorf("store page rating: %w", err)
	}
	if wantsJSON(c) {
		return c.JSON(fiber.Map{"message": s.i18n.T(rs.lang, "rating.thanks", nil)})
	}
	return c.Redirect(rs.base+in.Path+"?rated=1#rating", fiber.StatusSeeOther)
}

// pageRating sets up the rating widget of a town's page: which page it
// rates, and the thanks when the visitor comes back from rating it.
func (s *Server) pageRating(c *fiber.Ctx, p *web.Page) {
	rs := state(c)
	if rs.tenant == nil {
		return
	}
	below := strings.TrimPrefix(c.Path(), rs.base)
	if below == "" {
		below = "/"
	}
	p.Rating.Path = strings.Clone(below)
	if c.Query("rated") == "1" {
		p.Rating.Done = true
		p.Flash = s.i18n.T(rs.lang, "rating.flash", nil)
	}
}
