package baseline

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/report"
)

// bigInventory has n findings: 70% vulnerabilities, 10% each secrets,
// misconfigurations and malware.
func bigInventory(n int) *inventory.Inventory {
	inv := &inventory.Inventory{Artifact: inventory.Artifact{Name: "bench"}, Packages: []inventory.Package{}}
	for i := range n {
		switch i % 10 {
		case 0:
			inv.Secrets = append(inv.Secrets, inventory.Secret{RuleID: "aws-access-key-id", Path: fmt.Sprintf("/app/%d.env", i),
				Match: "AKIA****", Fingerprint: fmt.Sprintf("%016x", i*7919)})
		case 1:
			inv.Misconfigurations = append(inv.Misconfigurations, misconfig.Finding{ID: fmt.Sprintf("BH-K8S-%03d", i%40),
				Path: fmt.Sprintf("/deploy/%d.yaml", i), Line: i % 100, Resource: "Deployment/web container/app", References: []string{}})
		case 2:
			inv.Malware = append(inv.Malware, inventory.Malware{Signature: "Sig", Path: fmt.Sprintf("/bin/%d", i), SHA256: fmt.Sprintf("%064x", i)})
		default:
			inv.Vulnerabilities = append(inv.Vulnerabilities, inventory.Vulnerability{
				ID: fmt.Sprintf("CVE-2024-%05d", i), Aliases: []string{fmt.Sprintf("DSA-%d-1", i)},
				Package: inventory.VulnPackage{Name: fmt.Sprintf("pkg%d", i%500), Version: "1.0", Type: "deb", Ecosystem: "Debian:12"},
			})
		}
	}
	return inv
}

// BenchmarkHas asks a baseline of 5,000 findings about every finding of a
// report of the same size in which half are new.
func BenchmarkHas(b *testing.B) {
	base := bigInventory(5000)
	var buf bytes.Buffer
	if err := report.Write(&buf, "json", base, report.Options{}); err != nil {
		b.Fatal(err)
	}
	set, err := Read(&buf)
	if err != nil {
		b.Fatal(err)
	}
	cur := bigInventory(10000)
	var keys []string
	for _, v := range cur.Vulnerabilities[len(cur.Vulnerabilities)/4:] {
		keys = append(keys, VulnKey(v))
	}
	for _, s := range cur.Secrets[len(cur.Secrets)/4:] {
		keys = append(keys, SecretKey(s))
	}
	for _, m := range cur.Misconfigurations[len(cur.Misconfigurations)/4:] {
		keys = append(keys, MisconfigKey(m))
	}
	for _, m := range cur.Malware[len(cur.Malware)/4:] {
		keys = append(keys, MalwareKey(m))
	}
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		if set.Has(keys[i%len(keys)]) {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no hits")
	}
}

// BenchmarkLoad reads a 5,000-finding report into a baseline.
func BenchmarkLoad(b *testing.B) {
	var buf bytes.Buffer
	if err := report.Write(&buf, "json", bigInventory(5000), report.Options{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
