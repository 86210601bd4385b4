package server

import (
	"bufio"
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sportello/sportello/core/dossier"
	"github.com/sportello/sportello/core/forms"
	"github.com/sportello/sportello/plugins/sdk/pb"
	"github.com/sportello/sportello/web"
)

// A form with file fields posts multipart/form-data. Each file is checked
// (its type sniffed from the content, its size) and stored as a pending
// upload of the person posting, before the form is validated; the field's
// value becomes the upload's id. A form that comes back with errors posts
// that id again, so nobody has to choose an accepted file twice, and only
// its uploader can name it.

// uploadsKey holds, for the page drawn after a post, the names of the
// files kept by id (field value → file name).
const uploadsKey = "sportello.uploads"

// submission is a posted form: the document, its errors (those of the
// files first), and the files the service receives.
type submission struct {
	doc   map[string]any
	errs  web.FieldErrors
	files []*pb.FileRef
}

// uploadBinding is the request an upload is bound to: none for people the
// host knows (their id is binding enough, and a form sent back keeps its
// files); the request itself for an anonymous visitor, who has no other
// identity.
func uploadBinding(rs *reqState, by dossier.Actor) string {
	if by.Kind == dossier.ActorAnonymous {
		return rs.requestID
	}
	return ""
}

// submitForm decodes what was posted for f, storing its files for by, and
// validates it in the request's language.
func (s *Server) submitForm(c *fiber.Ctx, f *forms.Form, by dossier.Actor) (*submission, error) {
	rs := state(c)
	values, err := postedValues(c)
	if err != nil {
		return nil, err
	}
	sub := &submission{errs: web.FieldErrors{}}
	fileFields := f.FileFields()
	if len(fileFields) > 0 {
		var parts map[string][]*multipart.FileHeader
		if mf, err := c.MultipartForm(); err == nil {
			parts = mf.File
		}
		if surplusFiles(parts, fileFields) > 0 {
			// The form's page posts one file per file field at most:
			// more is no browser's doing, and none is stored (a file
			// kept from an earlier post stays).
			sub.errs[""] = s.i18n.T(rs.lang, "upload.too_many_files", nil)
			parts = nil
		}
		kept := map[string]string{}
		for _, ff := range fileFields {
			if err := s.takeFile(c, ff, by, values, parts[ff.Name], kept, sub); err != nil {
				return nil, err
			}
		}
		c.Locals(uploadsKey, kept)
	}
	doc, errs := f.Submit(values, rs.lang)
	for name, msg := range errs {
		if _, ok := sub.errs[name]; !ok {
			sub.errs[name] = msg
		}
	}
	sub.doc = doc
	if len(sub.errs) == 0 {
		sub.errs = nil
	}
	return sub, nil
}

// takeFile stores the file posted for ff, or checks the id of one kept
// from an earlier post, and sets the field's value to the upload's id. A
// refused file leaves the field as it was (empty, or the file kept
// before), with the reason beside it.
func (s *Server) takeFile(c *fiber.Ctx, ff forms.FileField, by dossier.Actor, values url.Values,
	posted []*multipart.FileHeader, kept map[string]string, sub *submission) error {
	rs := state(c)
	ctx := c.UserContext()
	// A kept file comes back as the field's plain value; anything else
	// posted there is dropped, so no one can name another's upload.
	var keptID int64
	if v := values.Get(ff.Name); v != "" {
		values.Del(ff.Name)
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			a, err := s.Dossiers.PendingUpload(ctx, rs.tenant.ID, by, uploadBinding(rs, by), id)
			switch {
			case err == nil:
				keptID = id
				values.Set(ff.Name, v)
				kept[v] = a.Name
				sub.files = append(sub.files, fileRef(ff.Name, a))
			case !errors.Is(err, dossier.ErrNotFound):
				return err
			}
		}
	}
	var fh *multipart.FileHeader
	for _, p := range posted {
		// An empty file input still posts a part, with no name.
		if p.Filename != "" || p.Size > 0 {
			fh = p
			break
		}
	}
	if fh == nil {
		return nil
	}
	refuse := func(id string, args map[string]any) error {
		sub.errs[ff.Name] = s.i18n.T(rs.lang, id, args)
		return nil
	}
	if s.cfg.FilesDir == "" {
		return refuse("backoffice.upload.unavailable", nil)
	}
	limit := int64(dossier.DefaultMaxFileSize)
	if ff.MaxBytes > 0 && ff.MaxBytes < limit {
		limit = ff.MaxBytes
	}
	if fh.Size > limit {
		return refuse("dossier.error.too_large_limit", map[string]any{"Limit": forms.FormatBytes(rs.lang, limit)})
	}
	file, err := fh.Open()
	if err != nil {
		return refuse("backoffice.upload.unreadable", nil)
	}
	defer file.Close()
	// The type is read from the content, never from the name or from what
	// the browser claims.
	br := bufio.NewReaderSize(file, 512)
	head, _ := br.Peek(512)
	sniffed, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil || !ff.Accepts(sniffed) {
		return refuse("backoffice.upload.type", map[string]any{"Types": ff.TypeNames()})
	}
	a, err := s.Dossiers.Upload(ctx, rs.tenant.ID, by, uploadBinding(rs, by), dossier.NewFile{Name: fh.Filename, Content: br})
	var fe *dossier.FieldError
	switch {
	case errors.Is(err, dossier.ErrTooLarge):
		return refuse("dossier.error.too_large_limit", map[string]any{"Limit": forms.FormatBytes(rs.lang, limit)})
	case errors.Is(err, dossier.ErrFileType):
		return refuse("dossier.error.file_type", nil)
	case errors.As(err, &fe):
		return refuse(s.fieldErrorID(fe), s.fieldErrorArgs(rs.lang, fe))
	case err != nil:
		return err
	}
	if keptID != 0 {
		// The new file replaces the one kept before.
		sub.files = dropFile(sub.files, keptID)
	}
	id := strconv.FormatInt(a.ID, 10)
	values.Set(ff.Name, id)
	kept[id] = a.Name
	sub.files = append(sub.files, fileRef(ff.Name, a))
	return nil
}

// surplusFiles counts the files posted beyond one per file field: a
// second file for a field, or a file under a name that is no file field.
// An empty file input posts a part without a name or content, which is
// no file.
func surplusFiles(parts map[string][]*multipart.FileHeader, fields []forms.FileField) int {
	isField := map[string]bool{}
	for _, ff := range fields {
		isField[ff.Name] = true
	}
	surplus := 0
	for name, ps := range parts {
		n := 0
		for _, p := range ps {
			if p.Filename != "" || p.Size > 0 {
				n++
			}
		}
		if isField[name] {
			n--
		}
		surplus += max(n, 0)
	}
	return surplus
}

func fileRef(field string, a *dossier.Attachment) *pb.FileRef {
	return &pb.FileRef{Field: "/" + strings.ReplaceAll(field, ".", "/"), AttachmentId: a.ID, Name: a.Name,
		ContentType: a.ContentType, Size: a.Size, Sha256: a.SHA256}
}

func dropFile(files []*pb.FileRef, id int64) []*pb.FileRef {
	out := files[:0]
	for _, f := range files {
		if f.GetAttachmentId() != id {
			out = append(out, f)
		}
	}
	return out
}

// markUploads names the files kept by id on the fields of a form drawn
// again after a post.
func markUploads(c *fiber.Ctx, fields []web.Field) {
	kept, _ := c.Locals(uploadsKey).(map[string]string)
	for i := range fields {
		f := &fields[i]
		if f.Widget == "file" && f.Value != "" {
			if name, ok := kept[f.Value]; ok {
				f.FileName = name
			} else {
				// An id that is no upload of this person's is not shown
				// back: the field is empty again.
				f.Value = ""
			}
		}
		markUploads(c, f.Children)
	}
}

// fieldErrorID and fieldErrorArgs translate a dossier.FieldError as
// "dossier.error.<code>" naming the field "dossier.field.<field>".
func (s *Server) fieldErrorID(fe *dossier.FieldError) string {
	return "dossier.error." + fe.Code
}

func (s *Server) fieldErrorArgs(lang string, fe *dossier.FieldError) map[string]any {
	return map[string]any{"Field": s.i18n.T(lang, "dossier.field."+fe.Field, nil), "Limit": fe.Limit}
}
