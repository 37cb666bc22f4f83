package purl

import (
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestForPackage(t *testing.T) {
	deb12 := &inventory.OS{ID: "debian", VersionID: "12"}
	tests := []struct {
		p    inventory.Package
		os   *inventory.OS
		want string
	}{
		{inventory.Package{Type: "deb", Name: "libc6", Version: "2.36-9+deb12u7", Arch: "amd64", Source: &inventory.Source{Name: "glibc", Version: "2.36-9+deb12u7"}}, deb12,
			"pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"},
		{inventory.Package{Type: "deb", Name: "bsdutils", Version: "1:2.38.1-5+deb12u3", Arch: "amd64", Source: &inventory.Source{Name: "util-linux", Version: "2.38.1-5+deb12u3"}}, deb12,
			"pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"},
		{inventory.Package{Type: "deb", Name: "bash", Version: "5.2.15-2+b13", Arch: "amd64", Source: &inventory.Source{Name: "bash", Version: "5.2.15-2"}}, deb12,
			"pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"},
		{inventory.Package{Type: "deb", Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64", Source: &inventory.Source{Name: "zlib1g", Version: "1:1.2.13.dfsg-1"}}, nil,
			"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64"},
		{inventory.Package{Type: "apk", Name: "libcrypto3", Version: "3.3.1-r0", Arch: "x86_64", Source: &inventory.Source{Name: "openssl", Version: "3.3.1-r0"}}, &inventory.OS{ID: "alpine", VersionID: "3.20.3"},
			"pkg:apk/alpine/libcrypto3@3.3.1-r0?arch=x86_64&distro=alpine-3.20.3"},
		{inventory.Package{Type: "rpm", Name: "bash", Version: "4.4.19-14.el8", Epoch: 1, Arch: "x86_64", Source: &inventory.Source{Name: "bash", Version: "4.4.19-14.el8"}}, &inventory.OS{ID: "rhel", VersionID: "8.6"},
			"pkg:rpm/redhat/bash@4.4.19-14.el8?arch=x86_64&distro=rhel-8.6&epoch=1"},
	}
	for _, tt := range tests {
		if got := ForPackage(&tt.p, tt.os); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.p.Name, got, tt.want)
		}
	}
}
