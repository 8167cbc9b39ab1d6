package pgwire

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
const (
	rfcUser        = "user"
	rfcPassword    = "pencil"
	rfcClientNonce = "rOprNGfwEbeRWgbNEkqO"
	rfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func rfcServer(t *testing.T, password string) *ScramServer {
	t.Helper()
	salt, err := base64.StdEncoding.DecodeString(rfcSalt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newScramServer(password, 4096, salt, rfcServerNonce)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScramRFC7677Client(t *testing.T) {
	c := newScramClient(rfcUser, rfcPassword, rfcClientNonce)
	if got := string(c.First()); got != rfcClientFirst {
		t.Fatalf("client-first = %q, want %q", got, rfcClientFirst)
	}
	final, err := c.Final([]byte(rfcServerFirst))
	if err != nil {
		t.Fatal(err)
	}
	if string(final) != rfcClientFinal {
		t.Fatalf("client-final = %q, want %q", final, rfcClientFinal)
	}
	if err := c.Verify([]byte(rfcServerFinal)); err != nil {
		t.Fatal(err)
	}
}

func TestScramRFC7677Server(t *testing.T) {
	s := rfcServer(t, rfcPassword)
	first, err := s.ClientFirst([]byte(rfcClientFirst))
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != rfcServerFirst {
		t.Fatalf("server-first = %q, want %q", first, rfcServerFirst)
	}
	final, err := s.ClientFinal([]byte(rfcClientFinal))
	if err != nil {
		t.Fatal(err)
	}
	if string(final) != rfcServerFinal {
		t.Fatalf("server-final = %q, want %q", final, rfcServerFinal)
	}
}

// exchange runs our client against our server with fresh nonces and salt.
func exchange(t *testing.T, serverPassword, clientPassword string) (serverErr, clientErr error) {
	t.Helper()
	s, err := NewScramServer(serverPassword, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewScramClient("app", clientPassword)
	first, err := s.ClientFirst(c.First())
	if err != nil {
		t.Fatal(err)
	}
	cf, err := c.Final(first)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := s.ClientFinal(cf)
	if err != nil {
		return err, nil
	}
	return nil, c.Verify(sf)
}

func TestScramRoundTrip(t *testing.T) {
	tests := []struct {
		name           string
		server, client string
		wantServerErr  error
	}{
		{"right password", "s3cret, with = signs", "s3cret, with = signs", nil},
		{"wrong password", "s3cret", "s3cret!", ErrAuthFailed},
		{"empty vs something", "", "x", ErrAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serr, cerr := exchange(t, tt.server, tt.client)
			if !errors.Is(serr, tt.wantServerErr) || (serr == nil && tt.wantServerErr != nil) {
				t.Fatalf("server err = %v, want %v", serr, tt.wantServerErr)
			}
			if cerr != nil {
				t.Fatalf("client verify: %v", cerr)
			}
		})
	}
}

// A server that does not know the password cannot produce the signature.
func TestScramClientRejectsImpostor(t *testing.T) {
	tests := []struct {
		name        string
		serverFinal string
		want        error
	}{
		{"signature of another password", "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), ErrAuthFailed},
		{"server error", "e=invalid-proof", ErrAuthFailed},
		{"not base64", "v=%%%", ErrAuthFailed},
		{"garbage", "garbage", ErrProtocol},
		{"empty", "", ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newScramClient(rfcUser, rfcPassword, rfcClientNonce)
			c.First()
			if _, err := c.Final([]byte(rfcServerFirst)); err != nil {
				t.Fatal(err)
			}
			if err := c.Verify([]byte(tt.serverFinal)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestScramClientFinalRefuses(t *testing.T) {
	const n = rfcClientNonce
	tests := []struct {
		name        string
		serverFirst string
		want        error
	}{
		{"nonce not extending ours", "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrProtocol},
		{"nonce equal to ours", "r=" + n + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrProtocol},
		{"nonce with a space", "r=" + n + "a b,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrProtocol},
		{"zero iterations", "r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", ErrProtocol},
		{"negative iterations", "r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1", ErrProtocol},
		{"iterations not a number", "r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many", ErrProtocol},
		{"too many iterations", "r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001", ErrUnsupported},
		{"bad salt", "r=" + n + "x,s=***,i=4096", ErrProtocol},
		{"empty salt", "r=" + n + "x,s=,i=4096", ErrProtocol},
		{"missing iterations", "r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==", ErrProtocol},
		{"mandatory extension", "m=ext,r=" + n + "x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", ErrUnsupported},
		{"empty", "", ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newScramClient(rfcUser, rfcPassword, n)
			c.First()
			if _, err := c.Final([]byte(tt.serverFirst)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	c := newScramClient(rfcUser, rfcPassword, n)
	if _, err := c.Final([]byte(rfcServerFirst)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Final before First: %v", err)
	}
	if err := c.Verify([]byte(rfcServerFinal)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Verify before Final: %v", err)
	}
}

func TestScramServerClientFirst(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		want    error
		wantGS2 string
	}{
		{name: "n", msg: "n,,n=,r=abc", wantGS2: "n,,"},
		{name: "y: client supports binding, we do not", msg: "y,,n=,r=abc", wantGS2: "y,,"},
		{name: "extension ignored", msg: "n,,n=user,r=abc,x=ext", wantGS2: "n,,"},
		{name: "channel binding required", msg: "p=tls-server-end-point,,n=,r=abc", want: ErrUnsupported},
		{name: "authzid", msg: "n,a=admin,n=,r=abc", want: ErrUnsupported},
		{name: "mandatory extension", msg: "n,,m=ext,n=,r=abc", want: ErrUnsupported},
		{name: "bad flag", msg: "x,,n=,r=abc", want: ErrProtocol},
		{name: "no bare part", msg: "n,", want: ErrProtocol},
		{name: "no nonce", msg: "n,,n=user", want: ErrProtocol},
		{name: "empty nonce", msg: "n,,n=,r=", want: ErrProtocol},
		{name: "nonce with control byte", msg: "n,,n=,r=a\x01b", want: ErrProtocol},
		{name: "order swapped", msg: "n,,r=abc,n=", want: ErrProtocol},
		{name: "empty", msg: "", want: ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rfcServer(t, rfcPassword)
			_, err := s.ClientFirst([]byte(tt.msg))
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil || s.gs2Header != tt.wantGS2 {
				t.Fatalf("err = %v, gs2 header %q", err, s.gs2Header)
			}
		})
	}
	if _, err := rfcServer(t, rfcPassword).ClientFirst([]byte("p=tls-unique,,n=,r=a")); err == nil ||
		!strings.Contains(err.Error(), "channel binding") {
		t.Fatalf("channel binding error should say so: %v", err)
	}
}

func TestScramServerClientFinal(t *testing.T) {
	proof := "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	full := rfcClientNonce + rfcServerNonce
	tests := []struct {
		name  string
		first string // client-first; the RFC's when empty
		final string
		want  error
	}{
		{name: "wrong proof", final: "c=biws,r=" + full + ",p=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), want: ErrAuthFailed},
		{name: "other password", final: "", want: ErrAuthFailed}, // filled below
		{name: "wrong nonce", final: "c=biws,r=" + rfcClientNonce + "x,p=" + proof, want: ErrProtocol},
		{name: "channel binding data of y", final: "c=eSws,r=" + full + ",p=" + proof, want: ErrProtocol},
		{name: "y header matches y data", first: "y,,n=user,r=" + rfcClientNonce, final: "c=eSws,r=" + full + ",p=" + proof, want: ErrAuthFailed},
		{name: "no proof", final: "c=biws,r=" + full, want: ErrProtocol},
		{name: "short proof", final: "c=biws,r=" + full + ",p=AAAA", want: ErrProtocol},
		{name: "proof not base64", final: "c=biws,r=" + full + ",p=!!!!", want: ErrProtocol},
		{name: "no channel binding", final: "r=" + full + ",p=" + proof, want: ErrProtocol},
		{name: "empty", final: "", want: ErrProtocol},
	}
	// The proof made by a client with another password.
	c := newScramClient(rfcUser, "not pencil", rfcClientNonce)
	c.First()
	other, err := c.Final([]byte(rfcServerFirst))
	if err != nil {
		t.Fatal(err)
	}
	tests[1].final = string(other)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rfcServer(t, rfcPassword)
			first := tt.first
			if first == "" {
				first = rfcClientFirst
			}
			if _, err := s.ClientFirst([]byte(first)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ClientFinal([]byte(tt.final)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			// One exchange per ScramServer: no second try.
			if _, err := s.ClientFinal([]byte(rfcClientFinal)); !errors.Is(err, ErrProtocol) {
				t.Fatalf("second ClientFinal: %v", err)
			}
		})
	}
	if _, err := rfcServer(t, rfcPassword).ClientFinal([]byte(rfcClientFinal)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("ClientFinal before ClientFirst: %v", err)
	}
}

func TestNewScramServer(t *testing.T) {
	for _, it := range []int{-1, 1_000_001} {
		if _, err := NewScramServer("pw", it); err == nil {
			t.Errorf("iterations %d accepted", it)
		}
	}
	a, err := NewScramServer("pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewScramServer("pw", 0)
	if a.iterations != DefaultScramIterations || string(a.salt) == string(b.salt) || a.nonceSuffix == b.nonceSuffix {
		t.Fatalf("iterations %d; salts and nonces must differ per exchange", a.iterations)
	}
}

func TestScramEscape(t *testing.T) {
	for in, want := range map[string]string{"user": "user", "a,b=c": "a=2Cb=3Dc", "": ""} {
		if got := scramEscape(in); got != want {
			t.Errorf("scramEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

// The expected value was computed with Python's hashlib, independently of
// this code: md5(md5("pencil" + "user").hexdigest() + salt).
func TestMD5Password(t *testing.T) {
	got := MD5Password("user", "pencil", [4]byte{1, 2, 3, 4})
	if want := "md54376eb6913b38f9aaff38dc7cf19ca76"; got != want {
		t.Fatalf("MD5Password = %q, want %q", got, want)
	}
}
