// Package static embeds the page assets (scripts, styles, images).
package static

import "embed"

// FS holds the files served under /static/.
//
//go:embed *.js *.css *.svg examples/*.jpg i18n/*.json
var FS embed.FS
