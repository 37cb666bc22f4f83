package runtime

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDockerTLSFromEnv: DOCKER_HOST=tcp://…, DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH reach the engine over verified TLS.
func TestDockerTLSFromEnv(t *testing.T) {
	f := &fakeEngine{list: []map[string]any{listEntry(idA, "web")}, inspect: func(id string) (int, any) { return 200, inspectBody(id, "web") }}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	defer srv.Close()

	certs := t.TempDir()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	key, err := x509.MarshalPKCS8PrivateKey(srv.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	// The server's own certificate doubles as CA and client certificate.
	os.WriteFile(filepath.Join(certs, "ca.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(certs, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(certs, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	t.Setenv("DOCKER_HOST", "tcp://"+srv.Listener.Addr().String())
	t.Setenv("DOCKER_TLS_VERIFY", "1")
	t.Setenv("DOCKER_CERT_PATH", certs)

	res, err := ScanDocker(context.Background(), DockerOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Containers) != 1 || !strings.HasPrefix(res.Engine.Host, "tcp://127.0.0.1:") {
		t.Fatalf("containers %d, engine %+v", len(res.Containers), res.Engine)
	}

	// A CA that did not sign the server's certificate: refused.
	os.WriteFile(filepath.Join(certs, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: selfSigned(t)}), 0o600)
	if _, err := ScanDocker(context.Background(), DockerOptions{Timeout: 5 * time.Second}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server accepted: %v", err)
	}

	// Certificates missing: a clear error before any request.
	t.Setenv("DOCKER_CERT_PATH", t.TempDir())
	if _, err := ScanDocker(context.Background(), DockerOptions{Timeout: 5 * time.Second}); err == nil || !strings.Contains(err.Error(), "docker client") {
		t.Fatalf("missing certificates: %v", err)
	}
}

// selfSigned returns a fresh self-signed CA certificate (DER).
func selfSigned(t *testing.T) []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
