package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"attention/model"
)

// Every string the pages show is in both languages: the catalogues have
// the same keys with the same placeholders; every key the templates,
// scripts and server name is in them, and every key in them is used; every
// error code the server sends has its message.
func TestCataloguesComplete(t *testing.T) {
	read := func(lang string) map[string]any {
		b, err := os.ReadFile(filepath.Join("..", "static", "i18n", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		return c
	}
	en, ko := read("en"), read("ko")
	placeholder := regexp.MustCompile(`\{(\w+)\}`)
	names := func(v any) []string {
		var texts []string
		switch m := v.(type) {
		case string:
			texts = []string{m}
		case map[string]any:
			for _, f := range m {
				s, _ := f.(string)
				texts = append(texts, s)
			}
		}
		var out []string
		for _, s := range texts {
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				if !slices.Contains(out, m[1]) {
					out = append(out, m[1])
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for key, v := range en {
		w, ok := ko[key]
		if !ok {
			t.Errorf("%q is in en.json but not in ko.json", key)
			continue
		}
		if a, b := names(v), names(w); !slices.Equal(a, b) {
			t.Errorf("%q: placeholders %v in English, %v in Korean", key, a, b)
		}
		if forms, ok := v.(map[string]any); ok {
			if forms["one"] == nil || forms["other"] == nil {
				t.Errorf("%q: English plural forms need one and other: %v", key, forms)
			}
			if kf, ok := w.(map[string]any); !ok || kf["other"] == nil {
				t.Errorf("%q: Korean plural forms need other: %v", key, w)
			}
		}
		if s, ok := w.(string); ok && s == "" {
			t.Errorf("%q is empty in Korean", key)
		}
	}
	for key := range ko {
		if _, ok := en[key]; !ok {
			t.Errorf("%q is in ko.json but not in en.json", key)
		}
	}

	// The keys the sources name: T(ctx, "key") and key lists in the
	// templates, t("key") in the scripts, example descriptions here.
	used := map[string]bool{}
	keyRe := regexp.MustCompile(`"([a-z]+(?:\.[a-zA-Z0-9_]+)+)"`)
	for _, glob := range []string{"../templates/*.templ", "../static/*.js", "server.go", "class.go"} {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			t.Fatalf("no files match %s", glob)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
				if _, ok := en[m[1]]; ok {
					used[m[1]] = true
				} else if strings.HasSuffix(f, ".js") && strings.Contains(string(b), `t("`+m[1]+`"`) {
					t.Errorf("%s: t(%q) is not in the catalogues", f, m[1])
				} else if strings.HasSuffix(f, ".templ") && strings.Contains(string(b), `T(ctx, "`+m[1]+`"`) {
					t.Errorf("%s: T(ctx, %q) is not in the catalogues", f, m[1])
				}
			}
		}
	}
	// The scripts show error.CODE for the server's error codes.
	codes := regexp.MustCompile(`\bE\w+\s+= "(\w+)"`).FindAllStringSubmatch(mustRead(t, "errors.go"), -1)
	if len(codes) < 8 {
		t.Fatalf("found %d error codes in errors.go", len(codes))
	}
	for _, c := range codes {
		key := "error." + c[1]
		if _, ok := en[key]; !ok {
			t.Errorf("error code %q has no message %q", c[1], key)
		}
		used[key] = true
	}
	// Models' titles and data in other languages, looked up by model id.
	modelText := regexp.MustCompile(`^model\.[a-z0-9-]+\.(title|trainedOn)$`)
	for key := range en {
		if !used[key] && !modelText.MatchString(key) {
			t.Errorf("%q is in the catalogues but no page uses it", key)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The page language: ?lang= first, then Accept-Language, then English.
func TestPageLanguage(t *testing.T) {
	s := New(Config{})
	for _, tc := range []struct{ query, accept, lang, text string }{
		{"", "", "en", "How to read the grid"},
		{"", "ko-KR,ko;q=0.9,en;q=0.8", "ko", "격자 읽는 법"},
		{"", "fr-FR, ko;q=0.5", "ko", "격자 읽는 법"},
		{"", "ko;q=0, en", "en", "How to read the grid"},
		{"lang=en", "ko-KR", "en", "How to read the grid"},
		{"lang=ko", "en-US", "ko", "격자 읽는 법"},
		{"lang=xx", "", "en", "How to read the grid"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/?"+tc.query, nil)
		req.Header.Set("Accept-Language", tc.accept)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, `<html lang="`+tc.lang+`"`) || !strings.Contains(body, tc.text) {
			t.Errorf("?%s, Accept-Language %q: %d, want lang %s with %q", tc.query, tc.accept, rec.Code, tc.lang, tc.text)
		}
		if rec.Header().Get("Content-Language") != tc.lang || !strings.Contains(rec.Header().Get("Vary"), "Accept-Language") {
			t.Errorf("?%s: headers %v", tc.query, rec.Header())
		}
		// Links keep the language, so a shared link opens in it.
		if !strings.Contains(body, `href="/caption?lang=`+tc.lang+`"`) {
			t.Errorf("?%s: the nav does not keep lang=%s", tc.query, tc.lang)
		}
	}
}

// A Korean page names the models in Korean where the catalogue has them;
// the English page as the models say.
func TestModelNamesInKorean(t *testing.T) {
	s := New(Config{Translators: []model.Translator{named{model.Info{ID: "en-de", Kind: "translation", Title: "English → German (photo descriptions and everyday sentences)", TrainedOn: "photo descriptions", Attention: true}}}})
	for lang, want := range map[string]string{"ko": "영어 → 독일어", "en": "English → German (photo descriptions"} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?lang="+lang, nil))
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("?lang=%s: the picker lacks %q", lang, want)
		}
	}
}

// named is a translator that only has a name.
type named struct{ info model.Info }

func (n named) Info() model.Info                       { return n.info }
func (n named) Prepare(string) (model.Prepared, error) { return nil, model.ErrInvalidInput }
