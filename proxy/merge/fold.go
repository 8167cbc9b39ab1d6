package merge

import (
	"unicode"
	"unicode/utf8"
)

// foldCI appends the comparison key of v under a case- and
// accent-insensitive collation: trailing spaces dropped (PAD SPACE), Latin
// letters with accents mapped to their base letter, then upper-cased.
// Invalid UTF-8 bytes are kept as they are.
func foldCI(dst, v []byte) []byte {
	end := len(v)
	for end > 0 && v[end-1] == ' ' {
		end--
	}
	for i := 0; i < end; {
		r, n := utf8.DecodeRune(v[i:end])
		if r == utf8.RuneError && n <= 1 {
			dst = append(dst, v[i])
			i++
			continue
		}
		i += n
		if r >= 0xc0 && r <= 0x17f {
			if b, ok := latinBase[r]; ok {
				r = b
			}
		}
		dst = utf8.AppendRune(dst, unicode.ToUpper(r))
	}
	return dst
}

// latinBase maps accented Latin-1 and Latin Extended-A letters to their
// base letter, as utf8mb4_general_ci compares them.
var latinBase = func() map[rune]rune {
	groups := map[rune]string{
		'A': "ÀÁÂÃÄÅàáâãäåĀāĂăĄą",
		'C': "ÇçĆćĈĉĊċČč",
		'D': "ĎďĐđ",
		'E': "ÈÉÊËèéêëĒēĔĕĖėĘęĚě",
		'G': "ĜĝĞğĠġĢģ",
		'H': "ĤĥĦħ",
		'I': "ÌÍÎÏìíîïĨĩĪīĬĭĮįİ",
		'J': "Ĵĵ",
		'K': "Ķķ",
		'L': "ĹĺĻļĽľĿŀŁł",
		'N': "ÑñŃńŅņŇň",
		'O': "ÒÓÔÕÖØòóôõöøŌōŎŏŐő",
		'R': "ŔŕŖŗŘř",
		'S': "ŚśŜŝŞşŠš",
		'T': "ŢţŤťŦŧ",
		'U': "ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų",
		'W': "Ŵŵ",
		'Y': "ÝýÿŶŷŸ",
		'Z': "ŹźŻżŽž",
	}
	m := map[rune]rune{}
	for base, letters := range groups {
		for _, r := range letters {
			m[r] = base
		}
	}
	return m
}()
