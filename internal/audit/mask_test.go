package audit

import (
	"strings"
	"testing"
)

// Credentials in dockerd flags never reach the evidence: named secrets
// and the passwords of proxy and mirror URLs.
func TestMaskArgs(t *testing.T) {
	in := []string{"dockerd", "--http-proxy=http://admin:S3cretProxyPw@proxy:3128", "--registry-mirror", "https://bob:MirrorPw99@mirror.example",
		"--log-opt", "splunk-token=T0ken", "-H", "tcp://0.0.0.0:2375"}
	got := strings.Join(maskArgs(in), " ")
	for _, secret := range []string{"S3cretProxyPw", "MirrorPw99", "T0ken"} {
		if strings.Contains(got, secret) {
			t.Errorf("%s in %q", secret, got)
		}
	}
	if !strings.Contains(got, "http://admin:****@proxy:3128") || !strings.Contains(got, "tcp://0.0.0.0:2375") {
		t.Errorf("masked too much or too little: %q", got)
	}
}
