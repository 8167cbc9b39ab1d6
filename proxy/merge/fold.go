package merge

import "unicode/utf8"

// foldCI appends the comparison key of v under utf8mb4_general_ci:
// trailing spaces dropped (PAD SPACE), then each character's 16-bit
// weight, big-endian (the server's own table: case and most Latin accents
// folded, 'ß' = 's', every character beyond the BMP = U+FFFD). Invalid
// UTF-8 bytes weigh as themselves.
func foldCI(dst, v []byte) []byte {
	end := len(v)
	for end > 0 && v[end-1] == ' ' {
		end--
	}
	for i := 0; i < end; {
		r, n := utf8.DecodeRune(v[i:end])
		i += n
		w := uint16(0xfffd)
		switch {
		case r == utf8.RuneError && n <= 1:
			w = uint16(v[i-1])
		case r <= 0xffff:
			w = generalCIWeights[r]
		}
		dst = append(dst, byte(w>>8), byte(w))
	}
	return dst
}

// generalCIWeights is every BMP code point's utf8mb4_general_ci weight.
var generalCIWeights = func() *[0x10000]uint16 {
	var t [0x10000]uint16
	for i := range t {
		t[i] = uint16(i)
	}
	for _, p := range generalCIPairs {
		t[p>>16] = uint16(p)
	}
	return &t
}()
