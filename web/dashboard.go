package web

import "strings"

// join lists labels with 、.
func join(labels []string) string { return strings.Join(labels, "、") }
