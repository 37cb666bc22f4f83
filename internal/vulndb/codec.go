package vulndb

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// codec compresses and decompresses stored advisories. One is shared by all
// goroutines: zstd's EncodeAll and DecodeAll are safe for concurrent use.
type codec struct {
	enc  *zstd.Encoder
	dec  *zstd.Decoder
	bufs sync.Pool
}

// maxRawBytes bounds a decompressed advisory read back from the DB, so a
// damaged DB cannot make a lookup allocate without limit.
const maxRawBytes = 64 << 20

var (
	codecOnce   sync.Once
	sharedCodec *codec
	codecErr    error
)

// getCodec returns the process-wide codec.
func getCodec() (*codec, error) {
	codecOnce.Do(func() {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderCRC(false),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			codecErr = fmt.Errorf("starting zstd encoder: %w", err)
			return
		}
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxRawBytes))
		if err != nil {
			codecErr = fmt.Errorf("starting zstd decoder: %w", err)
			return
		}
		sharedCodec = &codec{enc: enc, dec: dec}
		sharedCodec.bufs.New = func() any { return new(bytes.Buffer) }
	})
	return sharedCodec, codecErr
}

func (c *codec) buffer() *bytes.Buffer {
	b := c.bufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func (c *codec) release(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let a giant record's buffer go
	}
	c.bufs.Put(b)
}

// decompress returns the JSON of a stored advisory.
func (c *codec) decompress(raw []byte) ([]byte, error) {
	return c.dec.DecodeAll(raw, nil)
}
