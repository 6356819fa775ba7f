package vault

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scelle/scelle/chain/verdict"
	"github.com/scelle/scelle/internal/s3test"
)

// benchBag seals a bag of SCELLE_VAULT_BENCH_MIB MiB of random bytes (64
// by default); docs/performance.md has the 1 GiB figures and the
// commands that compare them with aws s3 cp.
func benchBag(b *testing.B) (string, int64) {
	mib := 64
	if v, err := strconv.Atoi(os.Getenv("SCELLE_VAULT_BENCH_MIB")); err == nil && v > 0 {
		mib = v
	}
	return sealBag(b, mib<<20), int64(mib) << 20
}

func benchStore(b *testing.B) (*Store, string) {
	if srv == nil {
		b.Skip(s3test.ErrNoBinary)
	}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		b.Setenv(k, v)
	}
	st, err := Connect(Config{})
	if err != nil {
		b.Fatal(err)
	}
	bk, err := srv.MakeBucket("bench", true)
	if err != nil {
		b.Fatal(err)
	}
	return st, bk
}

// BenchmarkPush pushes a bag to versitygw on loopback, each time under
// a new prefix.
func BenchmarkPush(b *testing.B) {
	st, bk := benchStore(b)
	dir, size := benchBag(b)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := st.Push(context.Background(), dir, Location{Bucket: bk, Prefix: "p" + strconv.Itoa(i) + "/"},
			PushOptions{Key: pusherKey, RetainUntil: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyStored verifies a pushed bag in the store;
// BenchmarkVerifyLocal the same bag in its folder.
func BenchmarkVerifyStored(b *testing.B) {
	st, bk := benchStore(b)
	dir, size := benchBag(b)
	res, err := st.Push(context.Background(), dir, Location{Bucket: bk, Prefix: "v/"}, PushOptions{Key: pusherKey})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		v, err := st.Verify(context.Background(), Location{Bucket: bk, Prefix: res.Store.Prefix}, verdict.Options{})
		if err != nil || v.Status != verdict.Verified {
			b.Fatal(err, v)
		}
	}
}

func BenchmarkVerifyLocal(b *testing.B) {
	dir, size := benchBag(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		v, err := verdict.Check(dir, verdict.Options{})
		if err != nil || v.Status != verdict.Verified {
			b.Fatal(err, v)
		}
	}
}
