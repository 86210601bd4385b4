package server

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/authn"
	"github.com/sportello/sportello/core/tenancy"
)

// onboardForm is what the console's form says of a new town, written as
// the smallest manifest so that it is checked exactly as `tenant apply`
// checks a file.
type onboardForm struct {
	Slug      string   `yaml:"slug"`
	Name      string   `yaml:"name"`
	Languages []string `yaml:"languages"`
	Branding  struct {
		PrimaryColor string `yaml:"primary_color"`
	} `yaml:"branding"`
}

// maxTownName bounds the name a form may give; the longest Italian
// municipality's is under 40 characters.
const maxTownName = 200

// platformOnboard creates one town from the console's form. It never
// touches an existing town: that is what manifests are for.
func (s *Server) platformOnboard(c *fiber.Ctx) error {
	f := onboardForm{
		Slug: strings.ToLower(strings.TrimSpace(c.FormValue("slug"))),
		Name: strings.Join(strings.Fields(c.FormValue("name")), " "),
	}
	f.Branding.PrimaryColor = "#0066cc"
	for _, l := range c.Request().PostArgs().PeekMulti("languages") {
		f.Languages = append(f.Languages, string(l))
	}
	if utf8.RuneCountInString(f.Name) > maxTownName {
		return s.renderPlatformHome(c, fiber.StatusUnprocessableEntity, "onboard.error.name")
	}
	data, err := yaml.Marshal(f)
	if err != nil {
		return fmt.Errorf("onboard: write the manifest: %w", err)
	}
	m, err := tenancy.ParseManifest("console", data, "")
	var me *tenancy.ManifestError
	switch {
	case errors.As(err, &me):
		return s.renderPlatformHome(c, fiber.StatusUnprocessableEntity, onboardError(me.Field))
	case err != nil:
		return fmt.Errorf("onboard: %w", err)
	}
	var taken bool
	if err := s.DB.NewRaw("SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = ?)", m.Slug).Scan(c.UserContext(), &taken); err != nil {
		return fmt.Errorf("onboard: look up %s: %w", m.Slug, err)
	}
	if taken {
		return s.renderPlatformHome(c, fiber.StatusConflict, "onboard.error.taken")
	}
	if _, err := tenancy.Apply(c.UserContext(), s.DB, authn.Argon2{}, m); err != nil {
		return err
	}
	// This instance shows the town at once; the others hear of it from Apply's notification.
	if err := s.Tenants.Reload(c.UserContext()); err != nil {
		return err
	}
	return c.Redirect("/platform?done=onboarded", fiber.StatusSeeOther)
}

// onboardError names the message for the manifest field a form got wrong.
func onboardError(field string) string {
	switch {
	case strings.HasPrefix(field, "slug"):
		return "onboard.error.slug"
	case strings.HasPrefix(field, "name"):
		return "onboard.error.name"
	case strings.HasPrefix(field, "languages"):
		return "onboard.error.languages"
	}
	return "onboard.error.invalid"
}
