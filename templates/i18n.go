package templates

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"attention/static"

	"github.com/a-h/templ"
)

// Lang is a page language: the pages speak English and Korean. Every
// string a page shows, on the server or in its scripts, is a message in
// the catalogue of each language (static/i18n/LANG.json); a message is a
// string with {name} placeholders, or plural forms {"one": ..., "other":
// ...} chosen by the placeholder n (Korean has only "other").
type Lang string

// The languages, the default first.
const (
	English Lang = "en"
	Korean  Lang = "ko"
)

// Langs are the languages the pages speak, with each one's own name.
var Langs = []struct {
	Lang Lang
	Name string
}{{English, "English"}, {Korean, "한국어"}}

// message is one catalogue entry: a string, or plural forms.
type message struct {
	text  string
	forms map[string]string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.text); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &m.forms); err != nil {
		return err
	}
	if m.forms["other"] == "" {
		return fmt.Errorf("plural forms without \"other\": %s", b)
	}
	return nil
}

// catalogues are read once from the embedded files.
var catalogues = sync.OnceValues(func() (map[Lang]map[string]message, error) {
	out := map[Lang]map[string]message{}
	for _, l := range Langs {
		b, err := static.FS.ReadFile("i18n/" + string(l.Lang) + ".json")
		if err != nil {
			return nil, err
		}
		var c map[string]message
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("i18n/%s.json: %w", l.Lang, err)
		}
		out[l.Lang] = c
	}
	return out, nil
})

// Catalogue is a language's raw catalogue, for the page's scripts.
func Catalogue(l Lang) (json.RawMessage, error) {
	return static.FS.ReadFile("i18n/" + string(l) + ".json")
}

// Negotiate picks the page language: the ?lang= choice if it names one,
// else the first language of the browser's Accept-Language that the pages
// speak, else English.
func Negotiate(query, acceptLanguage string) Lang {
	if l, ok := parseLang(query); ok {
		return l
	}
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v <= 0 {
				continue // q=0: not wanted
			}
		}
		base, _, _ := strings.Cut(tag, "-")
		if l, ok := parseLang(base); ok {
			return l
		}
	}
	return English
}

func parseLang(s string) (Lang, bool) {
	for _, l := range Langs {
		if strings.EqualFold(s, string(l.Lang)) {
			return l.Lang, true
		}
	}
	return "", false
}

type langKey struct{}

// WithLang is ctx for rendering a page in l.
func WithLang(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, langKey{}, l)
}

// LangOf is the page language of ctx (English if none was set).
func LangOf(ctx context.Context) Lang {
	if l, ok := ctx.Value(langKey{}).(Lang); ok {
		return l
	}
	return English
}

// T is the message key in ctx's language with its placeholders filled
// from args, pairs of name and value ("n", 3). A key missing from the
// catalogue (a test keeps every key in both) shows as the key itself.
func T(ctx context.Context, key string, args ...any) string {
	return Translate(LangOf(ctx), key, args...)
}

// Own is the message key in l when l is not English and the catalogue has
// it, else own: for text that comes with the data (a model's title), which
// the English page shows as the data says.
func Own(l Lang, key, own string) string {
	cs, err := catalogues()
	if l == English || err != nil {
		return own
	}
	if _, ok := cs[l][key]; !ok {
		return own
	}
	return Translate(l, key)
}

// Translate is T for a language.
func Translate(l Lang, key string, args ...any) string {
	cs, err := catalogues()
	if err != nil {
		return key
	}
	m, ok := cs[l][key]
	if !ok {
		return key
	}
	vals := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		vals[fmt.Sprint(args[i])] = fmt.Sprint(args[i+1])
	}
	text := m.text
	if m.forms != nil {
		text = m.forms[pluralForm(l, vals["n"])]
		if text == "" {
			text = m.forms["other"]
		}
	}
	return fill(text, vals)
}

// pluralForm is CLDR's cardinal category of n: English has "one" for 1,
// Korean only "other".
func pluralForm(l Lang, n string) string {
	if l == English && n == "1" {
		return "one"
	}
	return "other"
}

// fill replaces each {name} in s by vals[name]; unknown names stay.
func fill(s string, vals map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		name := s[i+1 : i+j]
		b.WriteString(s[:i])
		if v, ok := vals[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

// langURL is path in ctx's language, kept in the URL so that a shared link
// opens in it.
func langURL(ctx context.Context, path string) templ.SafeURL {
	return templ.SafeURL(path + "?lang=" + string(LangOf(ctx)))
}

// switchURL is the page active ("translate", "caption" or "join") in l.
func switchURL(active string, l Lang) templ.SafeURL {
	return templ.SafeURL(PagePath(active) + "?lang=" + string(l))
}

// PagePath is where page ("translate", "caption" or "join") is served.
func PagePath(page string) string {
	switch page {
	case "caption":
		return "/caption"
	case "join":
		return "/join"
	}
	return "/"
}

// catalogue is ctx's language catalogue for the page's scripts; an
// unreadable one (a build fault) gives them none, and they show keys.
func catalogue(ctx context.Context) json.RawMessage {
	b, err := Catalogue(LangOf(ctx))
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}
