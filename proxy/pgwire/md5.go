package pgwire

import (
	"crypto/md5"
	"encoding/hex"
)

// MD5Password is the answer to AuthenticationMD5Password:
// "md5" + hex(md5(hex(md5(password + user)) + salt)). md5 is weak and
// PostgreSQL deprecates it; it is here because servers still ask for it.
func MD5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	h := md5.New()
	h.Write([]byte(hex.EncodeToString(inner[:])))
	h.Write(salt[:])
	return "md5" + hex.EncodeToString(h.Sum(nil))
}
