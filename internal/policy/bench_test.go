package policy

import (
	"fmt"
	"testing"
)

// BenchmarkEvaluate: the starter policy (every rule kind but sources,
// a CEL rule included) plus an ignore file, on 500 packages with about
// 500 vulnerabilities: what the gate adds to a scan.
func BenchmarkEvaluate(b *testing.B) {
	p, err := Parse("starter.yaml", []byte(Starter))
	if err != nil {
		b.Fatal(err)
	}
	ex, err := ParseIgnore("i.yaml", []byte(StarterIgnore))
	if err != nil {
		b.Fatal(err)
	}
	inv := bigInventory(500)
	b.ReportMetric(float64(len(inv.Vulnerabilities)), "vulns")
	b.ReportMetric(float64(len(inv.Packages)), "packages")
	start := cpuTime()
	for b.Loop() {
		v := Evaluate(p, Input{Inventory: inv, Now: now, Exceptions: ex})
		if !v.Blocked {
			b.Fatal("not blocked")
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkEvaluateNoCEL is the same without the CEL rule, whose input
// (the report as JSON) is the largest cost.
func BenchmarkEvaluateNoCEL(b *testing.B) {
	p, err := Parse("starter.yaml", []byte(Starter))
	if err != nil {
		b.Fatal(err)
	}
	p.Rules = p.Rules[:len(p.Rules)-1]
	inv := bigInventory(500)
	start := cpuTime()
	for b.Loop() {
		Evaluate(p, Input{Inventory: inv, Now: now})
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkParse: loading (and compiling the CEL of) the starter policy.
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("starter.yaml", []byte(Starter)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateLarge: 5,000 packages, about 5,000 vulnerabilities and
// an ignore file of 1,000 entries: the work grows with the findings, not
// with findings × exceptions.
func BenchmarkEvaluateLarge(b *testing.B) {
	p, err := Parse("starter.yaml", []byte(Starter))
	if err != nil {
		b.Fatal(err)
	}
	inv := bigInventory(5000)
	var ex []Exception
	for i := range 1000 {
		ex = append(ex, Exception{ID: fmt.Sprintf("CVE-2024-%05d", i*7), Reason: "r", Expires: now.AddDate(0, 1, 0)})
	}
	b.ReportMetric(float64(len(inv.Vulnerabilities)), "vulns")
	start := cpuTime()
	for b.Loop() {
		Evaluate(p, Input{Inventory: inv, Now: now, Exceptions: ex})
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
