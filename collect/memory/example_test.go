package memory_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing/iotest"

	"github.com/scelle/scelle/collect/memory"
)

func ExampleLiMEWriter() {
	var img bytes.Buffer
	lw := memory.NewLiMEWriter(&img)
	ram := bytes.Repeat([]byte{0xAB}, 0x2000)

	res := lw.WriteRange(memory.Range{Start: 0x1000, End: 0x2fff}, bytes.NewReader(ram))
	fmt.Printf("%#x-%#x complete=%v bytes=%#x sha256=%x...\n", res.Start, res.End, res.Complete(), res.Bytes, res.SHA256[:4])

	// A read error ends the range with the bytes really read.
	cut := io.MultiReader(bytes.NewReader(ram[:0x800]), iotest.ErrReader(errors.New("input/output error")))
	res = lw.WriteRange(memory.Range{Start: 0x10000, End: 0x11fff}, cut)
	fmt.Printf("%#x-%#x complete=%v bytes=%#x: %v\n", res.Start, res.End, res.Complete(), res.Bytes, res.Err)

	err := memory.ReadLiME(&img, func(h memory.Header, body io.Reader) error {
		fmt.Printf("record %#x-%#x at byte %d\n", h.Start, h.End, h.Offset)
		return nil
	})
	fmt.Println(err)
	// Output:
	// 0x1000-0x2fff complete=true bytes=0x2000 sha256=7cb9c935...
	// 0x10000-0x11fff complete=false bytes=0x800: lime: read at 0x10800: input/output error
	// record 0x1000-0x2fff at byte 0
	// record 0x10000-0x107ff at byte 8224
	// <nil>
}
