package report

import (
	"bufio"
	"cmp"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func writeTable(w io.Writer, inv *inventory.Inventory, _ *Options) error {
	bw := bufio.NewWriter(w)
	osName := "unknown"
	if inv.OS != nil {
		osName = cmp.Or(inv.OS.Name, strings.TrimSpace(inv.OS.ID+" "+inv.OS.VersionID))
	}
	n := len(inv.Packages)
	bw.WriteString("Artifact: " + printable(artifactName(&inv.Artifact)) +
		"  OS: " + printable(osName) +
		"  Packages: " + strconv.Itoa(n) + "\n\n")

	if n == 0 {
		bw.WriteString("No packages found.\n")
	} else {
		tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
		io.WriteString(tw, "NAME\tVERSION\tTYPE\tSOURCE\tLAYER\tLICENSE\n")
		for _, p := range sortedPackages(inv.Packages) {
			row := [...]string{
				p.Name, packageVersion(p), p.Type, sourceName(p), tableLayer(p),
				strings.Join(cleanLicenses(p.Licenses), ", "),
			}
			for i, cell := range row {
				if i > 0 {
					io.WriteString(tw, "\t")
				}
				io.WriteString(tw, cmp.Or(printable(cell), "-"))
			}
			io.WriteString(tw, "\n")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(inv.Warnings) > 0 {
		bw.WriteString("\n")
		for _, warn := range inv.Warnings {
			bw.WriteString("WARN " + printable(warn.String()) + "\n")
		}
	}
	return bw.Flush()
}

// tableLayer is the layer of the package's first location: index and
// short diffID; "" outside images.
func tableLayer(p *inventory.Package) string {
	if len(p.Locations) == 0 || p.Locations[0].LayerIndex == inventory.NoLayer {
		return ""
	}
	l := p.Locations[0]
	return strings.TrimSpace(strconv.Itoa(l.LayerIndex) + " " + shortDigest(l.LayerDiffID))
}

// printable makes a string from a scanned image safe to print on a
// terminal: a name with control characters (escape sequences, newlines,
// tabs that would break the columns) is shown quoted and escaped.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}
