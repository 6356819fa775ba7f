package collect

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestContextReaderKeepsChunks: a reader read to a known length, never to
// its end (io.ReadFull of a RAM chunk), gives its chunk back at every
// read. When it kept the chunk until EOF, each such reader left 256 KiB
// to the garbage collector: 32 MiB a GiB of RAM captured, and near the
// heap limit a collection every few allocations.
func TestContextReaderKeepsChunks(t *testing.T) {
	src := bytes.Repeat([]byte("scelle"), 200_000) // 1.2 MB, more than 4 chunks
	body := make([]byte, 1<<20)
	read := func() {
		if _, err := io.ReadFull(NewContextReader(context.Background(), bytes.NewReader(src)), body); err != nil {
			t.Fatal(err)
		}
	}
	read() // the chunk list filled
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const readers = 64
	for range readers {
		read()
	}
	runtime.ReadMemStats(&after)
	if !bytes.Equal(body, src[:len(body)]) {
		t.Fatal("the bytes read differ from the source")
	}
	// Each read costs a goroutine and a channel: a few hundred bytes.
	if grown := after.TotalAlloc - before.TotalAlloc; grown > readers*ctxReadChunk/8 {
		t.Errorf("%d readers of a known length allocated %d bytes: chunks are not reused", readers, grown)
	}
}

// blockedReader blocks its first Read until release is closed, then
// fills the buffer with 'X'.
type blockedReader struct{ release chan struct{} }

func (b *blockedReader) Read(p []byte) (int, error) {
	<-b.release
	for i := range p {
		p[i] = 'X'
	}
	return len(p), nil
}

// TestContextReaderAbandons: a read blocked in the source returns the
// context's error when it is cancelled, and its late completion lands in
// none of the chunks later readers get.
func TestContextReaderAbandons(t *testing.T) {
	for len(chunks) > 0 { // later readers get chunks made or put back from here on
		<-chunks
	}
	ctx, cancel := context.WithCancel(context.Background())
	blocked := &blockedReader{release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := NewContextReader(ctx, blocked).Read(make([]byte, 4096))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Read = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return once the context was cancelled")
	}
	src := bytes.Repeat([]byte{'a'}, 3*ctxReadChunk)
	got := make([]byte, len(src))
	r := NewContextReader(context.Background(), &slowSource{r: bytes.NewReader(src), release: blocked.release})
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Errorf("the abandoned read wrote into a chunk in use: %d bytes differ", countDiff(got, src))
	}
}

// slowSource releases the abandoned read at its first Read, then gives
// it time to write, so that a chunk shared with it would be overwritten
// while this read's bytes sit in it.
type slowSource struct {
	r       io.Reader
	release chan struct{}
}

func (s *slowSource) Read(p []byte) (int, error) {
	if s.release != nil {
		close(s.release)
		s.release = nil
	}
	n, err := s.r.Read(p)
	time.Sleep(2 * time.Millisecond)
	return n, err
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}
