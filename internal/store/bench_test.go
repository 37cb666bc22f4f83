package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/runtime"
)

// bigSnapshot is a host with n containers and n/4 images.
func bigSnapshot(n int, at time.Time) *runtime.Snapshot {
	s := snap("bench", at)
	for i := range n {
		c := web(fmt.Sprintf("%064x", i), fmt.Sprint(10000+i), i%10 == 0)
		c.Name = fmt.Sprintf("web-%d", i)
		c.PIDs = []int{1000 + i}
		c.Mounts = []runtime.Mount{{Type: "volume", Name: fmt.Sprint("v", i), Destination: "/data", RW: true}}
		s.Containers = append(s.Containers, c)
	}
	for i := range n / 4 {
		s.Images = append(s.Images, runtime.Image{ID: fmt.Sprintf("sha256:%064x", i), RepoTags: []string{fmt.Sprintf("img:%d", i)}, Size: 1 << 20})
	}
	return s
}

// BenchmarkSaveAndCompare stores a 200-container snapshot and compares it
// with the previous one: what one `bulkhead inventory` run costs the store.
func BenchmarkSaveAndCompare(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			ctx := context.Background()
			at := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
			if _, err := s.SaveSnapshot(ctx, bigSnapshot(200, at)); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				if _, err := s.SaveSnapshot(ctx, bigSnapshot(200, at.Add(time.Duration(i)*time.Second))); err != nil {
					b.Fatal(err)
				}
				if _, err := LatestChanges(ctx, s, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
