package secret

import (
	"math"
	"strings"
	"unicode/utf8"
)

// Entropy is the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// Mask hides a secret: its first characters, then a fixed run of stars, so
// neither the secret nor its length is disclosed. Four characters are shown
// for secrets of 16 characters or more (usually a public prefix such as
// "ghp_" or "AKIA"); shorter secrets show a quarter of their characters.
func Mask(s string) string {
	n := utf8.RuneCountInString(s)
	show := 4
	if n < 16 {
		show = n / 4
	}
	var b strings.Builder
	for i, r := range []rune(s) {
		if i == show {
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	b.WriteString(maskStars)
	return b.String()
}

const maskStars = "********"
