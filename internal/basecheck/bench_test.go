package basecheck

import (
	"fmt"
	"testing"
)

// BenchmarkCheck checks a 20-layer image against 200 approved bases of 1
// to 8 layers (none matches, so every base is compared).
func BenchmarkCheck(b *testing.B) {
	var approved []Base
	for i := range 200 {
		layers := []string{fmt.Sprintf("root%d", i%10)}
		for j := 1; j < 1+i%8; j++ {
			layers = append(layers, fmt.Sprintf("l%d-%d", i, j))
		}
		approved = append(approved, base(fmt.Sprintf("base-%03d", i), layers...))
	}
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("img%d", i))
	}
	names[0] = "root3"
	inv := imageOf(names...)
	b.ReportAllocs()
	for b.Loop() {
		if r := Check(inv, approved); r.Approved {
			b.Fatal("approved")
		}
	}
}
