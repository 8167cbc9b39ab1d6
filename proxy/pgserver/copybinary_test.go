package pgserver

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/shardgate/shardgate/topology"
)

// binaryHeader is a binary COPY header with an extension of ext bytes.
func binaryHeader(ext int) []byte {
	h := append([]byte(nil), binarySignature...)
	h = binary.BigEndian.AppendUint32(h, 0)
	h = binary.BigEndian.AppendUint32(h, uint32(ext))
	return append(h, bytes.Repeat([]byte{'e'}, ext)...)
}

// binaryTuple encodes fields (nil: NULL) as one binary COPY tuple.
func binaryTuple(fields ...[]byte) []byte {
	t := binary.BigEndian.AppendUint16(nil, uint16(len(fields)))
	for _, f := range fields {
		if f == nil {
			t = binary.BigEndian.AppendUint32(t, 0xffffffff)
			continue
		}
		t = binary.BigEndian.AppendUint32(t, uint32(len(f)))
		t = append(t, f...)
	}
	return t
}

func int8Field(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
func int4Field(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func TestBinarySplitter(t *testing.T) {
	snap, err := topology.Load("../../testdata/routing/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := snap.Database(topology.Postgres, "shop")
	shardOf := func(id int64) int { return db.ShardIndex(topology.IntKeyspaceID(id)) }

	// Whatever the message boundaries, each shard gets the header, its
	// tuples whole and in order, and the trailer.
	header := binaryHeader(3)
	ids := []int64{1, 2, 3, 100, -7, 1 << 40}
	stream := append([]byte(nil), header...)
	want := make([][]byte, 4)
	for i := range want {
		want[i] = append([]byte(nil), header...)
	}
	for _, id := range ids {
		tup := binaryTuple([]byte("name"), int8Field(id), nil)
		stream = append(stream, tup...)
		want[shardOf(id)] = append(want[shardOf(id)], tup...)
	}
	stream = append(stream, binaryTrailer...)
	for i := range want {
		want[i] = append(want[i], binaryTrailer...)
	}
	for chunk := 1; chunk <= len(stream); chunk++ {
		sp := &binarySplitter{key: 1, keyOID: oidInt8, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
		for i := 0; i < len(stream); i += chunk {
			if err := sp.feed(stream[i:min(i+chunk, len(stream))]); err != nil {
				t.Fatalf("chunks of %d: %v", chunk, err)
			}
		}
		if err := sp.end(); err != nil {
			t.Fatalf("chunks of %d: %v", chunk, err)
		}
		for i := range want {
			if !bytes.Equal(sp.out[i], want[i]) {
				t.Fatalf("chunks of %d, shard %d:\n got %x\nwant %x", chunk, i, sp.out[i], want[i])
			}
		}
	}

	// An int4 key hashes as the same integer as its int8 or text form.
	sp := &binarySplitter{key: 0, keyOID: oidInt4, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
	if err := sp.feed(append(binaryHeader(0), binaryTuple(int4Field(100))...)); err != nil {
		t.Fatal(err)
	}
	if len(sp.out[shardOf(100)]) <= len(binaryHeader(0)) {
		t.Errorf("int4 key 100 not on shard %d: %x", shardOf(100), sp.out)
	}

	// Refused: a NULL key, a key of another width, a missing key field, a
	// bad signature, data that ends inside a tuple.
	for name, data := range map[string][]byte{
		"null key":       append(binaryHeader(0), binaryTuple(nil, []byte("x"))...),
		"short int key":  append(binaryHeader(0), binaryTuple([]byte{1, 2, 3})...),
		"missing field":  append(binaryHeader(0), binaryTuple()...),
		"bad signature":  []byte("PGCOPX\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"text, not copy": []byte("1\tx\n"),
	} {
		sp := &binarySplitter{key: 0, keyOID: oidInt8, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
		if err := sp.feed(data); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	sp = &binarySplitter{key: 0, keyOID: oidInt8, keyType: topology.KeyInt, db: db, out: make([][]byte, 4)}
	tup := binaryTuple(int8Field(5))
	if err := sp.feed(append(binaryHeader(0), tup[:len(tup)-1]...)); err != nil {
		t.Fatal(err)
	}
	if err := sp.end(); err != errCopyTruncated {
		t.Errorf("truncated tuple: %v", err)
	}
}

// TestBinaryJoin: shards send binary COPY TO STDOUT as PostgreSQL does
// (the header with the first tuple, a tuple per message, the trailer
// alone; an empty shard sends header and trailer together). The joined
// stream has one header, every tuple in shard order, one trailer.
func TestBinaryJoin(t *testing.T) {
	h := binaryHeader(0)
	t1, t2, t3 := binaryTuple(int8Field(1)), binaryTuple(int8Field(2)), binaryTuple(int8Field(3))
	shards := [][][]byte{
		{append(append([]byte(nil), h...), t1...), t2, binaryTrailer},
		{append(append([]byte(nil), h...), binaryTrailer...)},
		{append(append([]byte(nil), h...), t3...), binaryTrailer},
	}
	var got []byte
	j := newBinaryJoin(len(shards), func(b []byte) { got = append(got, b...) })
	for i, msgs := range shards {
		for _, m := range msgs {
			if err := j.data(i, m); err != nil {
				t.Fatal(err)
			}
		}
		j.done(i)
	}
	want := bytes.Join([][]byte{h, t1, t2, t3, binaryTrailer}, nil)
	if !bytes.Equal(got, want) {
		t.Errorf("joined:\n got %x\nwant %x", got, want)
	}

	// A later shard's header cut over messages is still dropped whole.
	got = nil
	j = newBinaryJoin(2, func(b []byte) { got = append(got, b...) })
	j.data(0, append(append([]byte(nil), h...), t1...))
	j.data(0, binaryTrailer)
	j.done(0)
	second := append(append(append([]byte(nil), h...), t2...), binaryTrailer...)
	for _, b := range second {
		if err := j.data(1, []byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	j.done(1)
	if want := bytes.Join([][]byte{h, t1, t2, binaryTrailer}, nil); !bytes.Equal(got, want) {
		t.Errorf("joined with a cut header:\n got %x\nwant %x", got, want)
	}
}
