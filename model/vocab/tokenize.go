package vocab

import (
	"strings"
	"unicode"
)

// Tokenize splits text into words and punctuation, the units that the
// translation models read and write and that the alignment grid shows.
//
// Letters, digits and marks form words, which may hold inner hyphens and
// apostrophes ("T-shirt", "aujourd'hui"). Every other visible character is a
// token of its own. Clitics are split the way the language writes them:
// English "don't" -> "do n't", "Tom's" -> "Tom 's"; French "l'homme" ->
// "l' homme". Detokenize undoes this. Spaces, control and format characters
// (zero-width spaces, direction marks) separate words and are dropped.
func Tokenize(text, lang string) []string {
	var out []string
	rs := []rune(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar:
			i++ // invisible: zero-width spaces and joiners, direction marks, BOMs
		case isWordRune(r):
			j := i + 1
			for j < len(rs) {
				if isWordRune(rs[j]) {
					j++
				} else if isJoiner(rs[j]) && j+1 < len(rs) && isWordRune(rs[j+1]) {
					j += 2
				} else {
					break
				}
			}
			out = append(out, splitClitics(string(rs[i:j]), lang)...)
			i = j
		default:
			out = append(out, string(r))
			i++
		}
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isJoiner(r rune) bool { return r == '-' || isApostrophe(r) }

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

var englishClitics = []string{"n't", "'s", "'m", "'re", "'ve", "'ll", "'d"}

func splitClitics(w, lang string) []string {
	norm := strings.ReplaceAll(w, "’", "'")
	if !strings.Contains(norm, "'") {
		return []string{w}
	}
	switch lang {
	case "en":
		lower := strings.ToLower(norm)
		for _, c := range englishClitics {
			if strings.HasSuffix(lower, c) && len(norm) > len(c) {
				cut := len(norm) - len(c)
				return []string{norm[:cut], norm[cut:]}
			}
		}
	case "fr":
		// Elision: l', d', j', qu', jusqu', lorsqu', ... attach to the next word.
		k := strings.Index(norm, "'")
		head := strings.ToLower(norm[:k])
		if k > 0 && k < len(norm)-1 && (len([]rune(head)) <= 2 || strings.HasSuffix(head, "qu")) {
			return append([]string{norm[:k+1]}, splitClitics(norm[k+1:], lang)...)
		}
	}
	return []string{norm}
}

// noSpaceBefore holds tokens that attach to the word before them.
var noSpaceBefore = map[string]bool{
	".": true, ",": true, ")": true, "]": true, "}": true, "%": true, "…": true, "»": false,
}

// Detokenize joins tokens back into text for the given language.
func Detokenize(tokens []string, lang string) string {
	var b strings.Builder
	glue := true // no space before the first token
	for _, t := range tokens {
		attach := noSpaceBefore[t]
		switch t {
		case "!", "?", ":", ";":
			attach = lang != "fr" // French typography puts a space before these
		}
		if lang == "en" {
			l := strings.ToLower(t)
			for _, c := range englishClitics {
				if l == c {
					attach = true
				}
			}
		}
		if !glue && !attach {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		glue = t == "(" || t == "[" || t == "{" || (lang == "fr" && strings.HasSuffix(t, "'") && len(t) > 1)
	}
	return b.String()
}
