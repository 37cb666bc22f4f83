package secret

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// Test credentials are generated here, never committed: every token below
// is random, with a valid checksum where the rule checks one.

const (
	upperC  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerC  = "abcdefghijklmnopqrstuvwxyz"
	digitsC = "0123456789"
	alnumC  = upperC + lowerC + digitsC
	hexC    = "0123456789abcdef"
	b64C    = alnumC + "+/"
	urlC    = alnumC + "-_"
)

type gen struct{ r *mrand.Rand }

func newGen(seed uint64) *gen { return &gen{mrand.New(mrand.NewPCG(seed, 0x5ec7e7))} }

// s returns n random characters of alphabet.
func (g *gen) s(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g *gen) uuid() string {
	return g.s(hexC, 8) + "-" + g.s(hexC, 4) + "-" + g.s(hexC, 4) + "-" + g.s(hexC, 4) + "-" + g.s(hexC, 12)
}

// password: a realistic password, 16 characters of mixed classes.
func (g *gen) password() string { return g.s(alnumC, 12) + g.s("!#%*+,-.:=?@^_~", 2) + g.s(digitsC, 2) }

func (g *gen) ghToken(prefix string) string {
	body := g.s(alnumC, 30)
	return prefix + body + Base62CRC32(body)
}

// pemBody wraps der as PEM base64 lines.
func pemBody(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: der}))
}

func pemBlock(typ string, headers map[string]string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
}

// pemSecret is what the scanner fingerprints for a PEM block: the base64
// body without line breaks.
func pemSecret(block string) string {
	var b strings.Builder
	for _, l := range strings.Split(block, "\n") {
		if l == "" || strings.HasPrefix(l, "-----") || strings.Contains(l, ": ") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// fakeDER is a DER SEQUENCE header followed by random bytes: enough for the
// key rules' structural check, without the cost of generating a real key.
func (g *gen) fakeDER(n int) []byte {
	b := append([]byte{0x30, 0x82, byte(n >> 8), byte(n)}, g.bytes(n)...)
	return b
}

func sshString(s []byte) []byte {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(s)))
	return append(l[:], s...)
}

func (g *gen) opensshBlob(cipher string) []byte {
	b := []byte("openssh-key-v1\x00")
	b = append(b, sshString([]byte(cipher))...)
	kdf := "none"
	if cipher != "none" {
		kdf = "bcrypt"
	}
	b = append(b, sshString([]byte(kdf))...)
	b = append(b, sshString(g.bytes(24))...)
	b = append(b, 0, 0, 0, 1)
	return append(b, g.bytes(400)...)
}

// bech32Upper encodes 5-bit groups with the BIP-173 checksum, upper-case.
func bech32Upper(hrp string, data []byte) string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	poly := func(values []byte) uint32 {
		chk := uint32(1)
		for _, v := range values {
			top := chk >> 25
			chk = (chk&0x1ffffff)<<5 ^ uint32(v)
			for i := 0; i < 5; i++ {
				if (top>>i)&1 == 1 {
					chk ^= gen[i]
				}
			}
		}
		return chk
	}
	var values []byte
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	values = append(values, data...)
	pm := poly(append(values, 0, 0, 0, 0, 0, 0)) ^ 1
	var out strings.Builder
	out.WriteString(hrp + "1")
	for _, d := range data {
		out.WriteByte(charset[d])
	}
	for i := 0; i < 6; i++ {
		out.WriteByte(charset[(pm>>uint(5*(5-i)))&31])
	}
	return strings.ToUpper(out.String())
}

// jks builds a Java keystore with one entry of the given tag (1 private
// key, 2 trusted certificate).
func (g *gen) jks(tag uint32) []byte {
	var b []byte
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	utf := func(s string) { b = binary.BigEndian.AppendUint16(b, uint16(len(s))); b = append(b, s...) }
	u32(0xFEEDFEED)
	u32(2)
	u32(1)
	u32(tag)
	utf("alias")
	b = append(b, 0, 0, 1, 0x8f, 0, 0, 0, 0)
	if tag == 1 {
		key := g.bytes(300)
		u32(uint32(len(key)))
		b = append(b, key...)
		u32(1)
	}
	utf("X.509")
	cert := g.bytes(200)
	u32(uint32(len(cert)))
	b = append(b, cert...)
	return append(b, g.bytes(20)...)
}

// plant is one planted credential: the file it is in and where.
type plant struct {
	rule    string
	path    string
	content string
	secret  string // as the scanner fingerprints it
	line    int    // 0 for file rules
	file    bool   // a file rule: Match is "(file)"
}

const plantHead = "# managed by deploy tooling\n\n"

// at plants content (after two unrelated lines) whose secret starts where
// the first characters of secret first occur.
func at(rule, path, content, secret string) plant {
	content = plantHead + content + "\n"
	i := strings.Index(content, secret[:min(16, len(secret))])
	if i < 0 {
		panic("plant " + rule + ": secret not in content")
	}
	return plant{rule: rule, path: path, content: content, secret: secret, line: 1 + strings.Count(content[:i], "\n")}
}

// line plants before+secret+after as one line.
func line(rule, path, before, secret, after string) plant {
	return at(rule, path, before+secret+after, secret)
}

// fileRule plants a credential container reported as a file.
func fileRule(rule, path string, content []byte) plant {
	sum := sha256.Sum256(content)
	return plant{rule: rule, path: path, content: string(content), secret: "sha256:" + hex.EncodeToString(sum[:]), file: true}
}

func plants(t testing.TB) []plant {
	g := newGen(42)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	pk8DER, _ := x509.MarshalPKCS8PrivateKey(ecKey)

	rsaPEM := pemBlock("RSA PRIVATE KEY", nil, x509.MarshalPKCS1PrivateKey(rsaKey))
	ecPEM := pemBlock("EC PRIVATE KEY", nil, ecDER)
	dsaPEM := pemBlock("DSA PRIVATE KEY", nil, g.fakeDER(440))
	encPEM := pemBlock("RSA PRIVATE KEY", map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC," + strings.ToUpper(g.s(hexC, 32))}, g.bytes(608))
	pk8PEM := pemBlock("PRIVATE KEY", nil, pk8DER)
	pk8EncPEM := pemBlock("ENCRYPTED PRIVATE KEY", nil, g.fakeDER(700))
	sshPEM := pemBlock("OPENSSH PRIVATE KEY", nil, g.opensshBlob("none"))
	sshEncPEM := pemBlock("OPENSSH PRIVATE KEY", nil, g.opensshBlob("aes256-ctr"))
	pgpBody := base64.StdEncoding.EncodeToString(append([]byte{0x95, 0x01, 0xd8, 0x04}, g.bytes(470)...))
	var pgpLines []string
	for i := 0; i < len(pgpBody); i += 64 {
		pgpLines = append(pgpLines, pgpBody[i:min(i+64, len(pgpBody))])
	}
	pgpCRC := "=" + g.s(b64C, 4)
	pgp := "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: deploy key\n\n" + strings.Join(pgpLines, "\n") + "\n" + pgpCRC + "\n-----END PGP PRIVATE KEY BLOCK-----"
	puttyPriv := base64.StdEncoding.EncodeToString(g.bytes(48))
	putty := "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-20240611\nPublic-Lines: 2\n" +
		base64.StdEncoding.EncodeToString(g.bytes(48)) + "\n" + base64.StdEncoding.EncodeToString(g.bytes(3)) +
		"\nPrivate-Lines: 1\n" + puttyPriv + "\nPrivate-MAC: " + g.s(hexC, 64)

	gcpKeyID := g.s(hexC, 40)
	gcpJSON := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"prod-412\",\n  \"private_key_id\": \"" + gcpKeyID + "\",\n" +
		"  \"private_key\": \"" + strings.ReplaceAll(pk8PEM, "\n", `\n`) + "\",\n  \"client_email\": \"ci@prod-412.iam.gserviceaccount.com\"\n}"

	azKey := g.s(b64C, 86) + "=="
	discordID := "1" + g.s(digitsC, 17)
	discord := base64.RawStdEncoding.EncodeToString([]byte(discordID)) + "." + g.s(urlC, 6) + "." + g.s(urlC, 38)
	dockerAuth := base64.StdEncoding.EncodeToString([]byte("ci-bot:" + g.password()))
	npmrcAuth := base64.StdEncoding.EncodeToString([]byte("deploy:" + g.password()))
	kubeKey := base64.StdEncoding.EncodeToString([]byte(rsaPEM))
	ageData := make([]byte, 52)
	for i := range ageData {
		ageData[i] = byte(g.r.IntN(32))
	}
	jwtHdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	jwtPay := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"svc-` + g.s(lowerC, 6) + `","iat":1718000000,"exp":4102444800}`))
	jwt := jwtHdr + "." + jwtPay + "." + g.s(urlC, 43)
	pw := g.password
	sasSig := g.s(alnumC, 43) + "%3D"
	shadowHash := "6$" + g.s(alnumC+"./", 16) + "$" + g.s(alnumC+"./", 86)
	apr1 := "apr1$" + g.s(alnumC+"./", 8) + "$" + g.s(alnumC+"./", 22)
	wpSalt := g.s(alnumC+"!#%&()*+,-./:;=?@[]^_{|}~", 64)

	return []plant{
		at("private-key-rsa", "/root/.ssh/id_rsa", rsaPEM, pemSecret(rsaPEM)),
		at("private-key-ec", "/etc/ssl/private/server.key", ecPEM, pemSecret(ecPEM)),
		at("private-key-dsa", "/etc/ssh/ssh_host_dsa_key", dsaPEM, pemSecret(dsaPEM)),
		at("private-key-pem-encrypted", "/srv/tls/legacy.key", encPEM, pemSecret(encPEM)),
		at("private-key-pkcs8", "/app/certs/tls.key", pk8PEM, pemSecret(pk8PEM)),
		at("private-key-pkcs8-encrypted", "/app/certs/tls-enc.key", pk8EncPEM, pemSecret(pk8EncPEM)),
		at("private-key-openssh", "/home/app/.ssh/id_ed25519", sshPEM, pemSecret(sshPEM)),
		at("private-key-openssh-encrypted", "/home/app/.ssh/id_backup", sshEncPEM, pemSecret(sshEncPEM)),
		at("private-key-pgp", "/root/signing.asc", pgp, strings.Join(pgpLines, "")+pgpCRC),
		at("private-key-putty", "/opt/keys/deploy.ppk", putty, puttyPriv),

		line("aws-access-key-id", "/root/.aws/credentials", "[default]\naws_access_key_id = ", "AKIA"+g.s(upperC+"234567", 16), ""),
		line("aws-secret-access-key", "/root/.aws/credentials", "[default]\naws_secret_access_key = ", g.s(alnumC+"+/", 40), ""),
		line("aws-session-token", "/root/.aws/credentials", "aws_session_token = ", "IQoJb3JpZ2luX2Vj"+g.s(b64C, 300), ""),
		line("aws-session-token-assignment", "/app/sts.json", `{"Credentials": {"SessionToken": "`, "AQoDYXdzE"+g.s(b64C, 320), `"}}`),
		line("aws-mws-auth-token", "/app/mws.cfg", "mws_token=", "amzn.mws."+g.uuid(), ""),
		line("aws-bedrock-api-key", "/app/bedrock.sh", "export AWS_BEARER_TOKEN_BEDROCK=", "ABSKQmVkcm9ja0FQSUtleS"+g.s(b64C, 110), ""),

		at("gcp-service-account-key", "/var/secrets/google/key.json", gcpJSON, gcpKeyID),
		line("gcp-api-key", "/app/static/maps.js", `const MAPS_KEY = "`, "AIza"+g.s(urlC, 35), `";`),
		line("gcp-oauth-client-secret", "/app/client_secret.json", `{"installed":{"client_secret":"`, "GOCSPX-"+g.s(urlC, 28), `"}}`),
		line("gcp-oauth-access-token", "/app/token.txt", "Authorization: Bearer ", "ya29."+g.s(urlC, 120), ""),
		line("gcp-oauth-refresh-token", "/root/.config/gcloud/creds.json", `{"refresh_token": "`, "1//0"+g.s(urlC, 100), `"}`),

		line("azure-cosmosdb-connection-string", "/app/appsettings.Production.json", `"Cosmos": "AccountEndpoint=https://orders.documents.azure.com:443/;AccountKey=`, g.s(b64C, 86)+"==", `;"`),
		line("azure-storage-connection-string", "/app/web.config", `<add name="Storage" connectionString="DefaultEndpointsProtocol=https;AccountName=prodassets;AccountKey=`, azKey, `;EndpointSuffix=core.windows.net" />`),
		line("azure-storage-account-key", "/app/deploy.yaml", "storage_account_key: ", g.s(b64C, 86)+"==", ""),
		line("azure-sas-token", "/app/blob.txt", "https://prodassets.blob.core.windows.net/backups/db.bak?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&spr=https&sig=", sasSig, ""),
		line("azure-shared-access-key", "/app/bus.cfg", "Endpoint=sb://orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=", g.s(b64C, 43)+"=", ""),
		line("azure-app-configuration-connection-string", "/app/cfg.txt", "Endpoint=https://prod-cfg.azconfig.io;Id=Ab1c-l0-s0:"+g.s(alnumC, 20)+";Secret=", g.s(b64C, 43)+"=", ""),
		line("azure-ad-client-secret", "/app/auth.js", `const clientSecret = "`, g.s(alnumC, 3)+"8Q~"+g.s(alnumC+"_~.-", 34), `";`),
		line("azure-devops-pat", "/app/ado.txt", "token=", g.s(alnumC, 52)+"JQQJ99"+g.s(alnumC, 18)+"AZDO"+g.s(alnumC, 4), ""),
		line("azure-identifiable-key", "/app/apim.txt", "key=", g.s(alnumC, 52)+"JQQJ99"+g.s(digitsC, 26), ""),

		line("github-pat", "/app/scripts/release.sh", "export GH_TOKEN=", g.ghToken("ghp_"), ""),
		line("github-fine-grained-pat", "/app/scripts/release.sh", "export GH_TOKEN=", "github_pat_"+g.s(alnumC, 22)+"_"+g.s(alnumC, 59), ""),
		line("github-oauth-token", "/root/.config/gh/hosts.yml", "    oauth_token: ", g.ghToken("gho_"), ""),
		line("github-user-to-server-token", "/app/token.txt", "", g.ghToken("ghu_"), ""),
		line("github-app-installation-token", "/app/token.txt", "", g.ghToken("ghs_"), ""),
		line("github-refresh-token", "/app/token.txt", "", g.ghToken("ghr_"), ""),

		line("gitlab-pat", "/app/ci.sh", "curl --header 'PRIVATE-TOKEN: ", "glpat-"+g.s(urlC, 20), "' https://gitlab.internal/api/v4/projects"),
		line("gitlab-deploy-token", "/app/ci.sh", "DEPLOY_TOKEN=", "gldt-"+g.s(alnumC, 20), ""),
		line("gitlab-runner-token", "/etc/gitlab-runner/config.toml", `  token = "`, "glrt-"+g.s(alnumC, 20), `"`),
		line("gitlab-runner-registration-token", "/app/register.sh", "gitlab-runner register --registration-token ", "GR1348941"+g.s(alnumC, 20), ""),
		line("gitlab-pipeline-trigger-token", "/app/ci.sh", "-F token=", "glptt-"+g.s(hexC, 40), ""),
		line("gitlab-oauth-app-secret", "/app/oauth.txt", "secret=", "gloas-"+g.s(hexC, 64), ""),

		line("bitbucket-app-password", "/app/bb.sh", "BB_APP_PASSWORD=", "ATBB"+g.s(alnumC, 32), ""),
		line("bitbucket-access-token", "/app/bb.sh", "BB_TOKEN=", "ATCTT3xFfGN0"+g.s(urlC, 180), ""),
		line("atlassian-api-token", "/app/jira.sh", "JIRA_TOKEN=", "ATATT3xFfGF0"+g.s(urlC, 180), ""),

		line("slack-bot-token", "/app/bot.py", `SLACK_BOT_TOKEN = "`, "xoxb-"+g.s(digitsC, 11)+"-"+g.s(digitsC, 13)+"-"+g.s(alnumC, 24), `"`),
		line("slack-user-token", "/app/bot.py", `token = "`, "xoxp-"+g.s(digitsC, 11)+"-"+g.s(digitsC, 11)+"-"+g.s(digitsC, 13)+"-"+g.s(hexC, 32), `"`),
		line("slack-app-token", "/app/bot.py", `app_token = "`, "xapp-1-A"+g.s(upperC+digitsC, 10)+"-"+g.s(digitsC, 13)+"-"+g.s(hexC, 64), `"`),
		line("slack-config-token", "/app/bot.py", `config_token = "`, "xoxe.xoxp-1-"+g.s(upperC+digitsC, 160), `"`),
		line("slack-legacy-token", "/app/bot.py", `legacy = "`, "xoxs-"+g.s(digitsC, 10)+"-"+g.s(alnumC, 30), `"`),
		line("slack-webhook-url", "/app/notify.sh", "curl -X POST https://hooks.slack.com/services/", "T"+g.s(upperC+digitsC, 10)+"/B"+g.s(upperC+digitsC, 10)+"/"+g.s(alnumC, 24), " -d @msg.json"),

		line("discord-bot-token", "/app/bot.js", `const discordToken = "`, discord, `";`),
		line("discord-webhook-url", "/app/notify.sh", "curl -X POST https://discord.com/api/webhooks/"+g.s(digitsC, 18)+"/", g.s(urlC, 68), ""),
		line("discord-client-secret", "/app/bot.js", `discord_client_secret = "`, g.s(alnumC, 32), `"`),
		line("teams-webhook-url", "/app/notify.ps1", "$hook = 'https://contoso.webhook.office.com/webhookb2/"+g.uuid()+"@"+g.uuid()+"/IncomingWebhook/", g.s(hexC, 32)+"/"+g.uuid(), "'"),
		line("teams-workflow-webhook-url", "/app/notify.ps1", "$hook = 'https://prod-12.westus.logic.azure.com:443/workflows/"+g.s(hexC, 32)+"/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=", g.s(urlC, 43), "'"),

		line("stripe-secret-key", "/app/billing.rb", `Stripe.api_key = "`, "sk_live_51"+g.s(alnumC, 97), `"`),
		line("stripe-restricted-key", "/app/billing.rb", `key = "`, "rk_live_51"+g.s(alnumC, 97), `"`),
		line("stripe-test-key", "/app/billing.rb", `key = "`, "sk_test_51"+g.s(alnumC, 97), `"`),
		line("stripe-webhook-secret", "/app/billing.rb", `endpoint_secret = "`, "whsec_"+g.s(alnumC, 32), `"`),
		line("square-access-token", "/app/pay.js", `token: "`, "sq0atp-"+g.s(urlC, 22), `"`),
		line("square-oauth-secret", "/app/pay.js", `secret: "`, "sq0csp-"+g.s(urlC, 43), `"`),
		line("twilio-api-key", "/app/.env", "TWILIO_API_KEY=", "SK"+g.s(hexC, 32), ""),
		line("twilio-auth-token", "/app/config/sms.yml", "twilio_auth_token: ", g.s(hexC, 32), ""),
		line("sendgrid-api-key", "/app/mail.py", `SENDGRID_API_KEY = "`, "SG."+g.s(urlC, 22)+"."+g.s(urlC, 43), `"`),
		line("mailgun-api-key", "/app/mail.py", `MAILGUN_API_KEY = "`, "key-"+g.s(hexC, 32), `"`),
		line("mailchimp-api-key", "/app/mail.py", `MC_KEY = "`, g.s(hexC, 32)+"-us14", `"`),
		line("telegram-bot-token", "/app/bot.py", `BOT = "`, "7"+g.s(digitsC, 9)+":AA"+g.s(urlC, 33), `"`),
		line("firebase-cloud-messaging-key", "/app/push.js", `serverKey: "`, "AAAA"+g.s(urlC, 7)+":APA91b"+g.s(urlC, 134), `"`),

		line("npm-access-token", "/app/publish.sh", "NPM_TOKEN=", g.ghToken("npm_"), ""),
		line("npmrc-auth-token", "/root/.npmrc", "//registry.npmjs.org/:_authToken=", g.uuid(), ""),
		line("npmrc-password", "/home/node/.npmrc", "//npm.internal.corp/:_auth=", npmrcAuth, ""),
		line("pypi-token", "/root/.pypirc", "[pypi]\nusername = __token__\npassword = ", "pypi-AgEIcHlwaS5vcmc"+g.s(urlC, 150), ""),
		line("pypirc-password", "/root/.pypirc", "[internal]\nusername = deploy\npassword = ", pw(), ""),
		line("rubygems-api-key", "/app/release.sh", "GEM_HOST_API_KEY=", "rubygems_"+g.s(hexC, 48), ""),
		line("gem-credentials", "/root/.gem/credentials", "---\n:rubygems_api_key: ", g.s(hexC, 32), ""),
		line("nuget-api-key", "/app/push.ps1", "dotnet nuget push pkg.nupkg --api-key ", "oy2"+g.s(lowerC+digitsC, 43), ""),
		line("nuget-config-password", "/app/NuGet.Config", `<add key="ClearTextPassword" value="`, pw(), `" />`),
		line("docker-config-auth", "/root/.docker/config.json", `{"auths": {"registry.internal.corp": {"auth": "`, dockerAuth, `"}}}`),
		line("docker-config-identity-token", "/root/.docker/config.json", `{"auths": {"ghcr.io": {"identitytoken": "`, g.s(urlC, 48), `"}}}`),
		line("docker-hub-token", "/app/push.sh", "echo ", "dckr_pat_"+g.s(urlC, 27), " | docker login -u ci --password-stdin"),

		line("kubeconfig-client-key", "/root/.kube/config", "users:\n- name: admin\n  user:\n    client-key-data: ", kubeKey, ""),
		line("kubeconfig-token", "/root/.kube/config", "users:\n- name: ci\n  user:\n    token: ", g.s(alnumC, 52), ""),
		line("kubeconfig-password", "/etc/kubernetes/admin.conf", "users:\n- name: admin\n  user:\n    username: admin\n    password: ", pw(), ""),
		line("vault-service-token", "/app/vault.sh", "export VAULT_TOKEN=", "hvs."+g.s(urlC, 90), ""),
		line("vault-batch-token", "/app/vault.sh", "export VAULT_TOKEN=", "hvb."+g.s(urlC, 138), ""),
		line("vault-legacy-token", "/app/vault.sh", "export VAULT_TOKEN=", "s."+g.s(alnumC, 22)+"7a", ""),
		line("terraform-cloud-token", "/root/.terraform.d/credentials.tfrc.json", `{"credentials": {"app.terraform.io": {"token": "`, g.s(alnumC, 14)+".atlasv1."+g.s(urlC, 67), `"}}}`),

		line("openai-api-key", "/app/llm.py", `OPENAI_API_KEY = "`, "sk-proj-"+g.s(urlC, 74)+"T3BlbkFJ"+g.s(urlC, 74), `"`),
		line("anthropic-api-key", "/app/llm.py", `ANTHROPIC_API_KEY = "`, "sk-ant-api03-"+g.s(urlC, 93)+"AA", `"`),
		line("anthropic-admin-key", "/app/llm.py", `ADMIN_KEY = "`, "sk-ant-admin01-"+g.s(urlC, 93)+"AA", `"`),
		line("huggingface-token", "/app/llm.py", `HF_TOKEN = "`, "hf_"+g.s(upperC+lowerC, 34), `"`),
		line("huggingface-org-token", "/app/llm.py", `ORG = "`, "api_org_"+g.s(upperC+lowerC, 34), `"`),
		line("groq-api-key", "/app/llm.py", `GROQ = "`, "gsk_"+g.s(alnumC, 52), `"`),
		line("replicate-api-token", "/app/llm.py", `REPLICATE = "`, "r8_"+g.s(alnumC, 35)+"7q", `"`),
		line("perplexity-api-key", "/app/llm.py", `PPLX = "`, "pplx-"+g.s(alnumC, 48), `"`),
		line("xai-api-key", "/app/llm.py", `XAI = "`, "xai-"+g.s(alnumC, 80), `"`),

		line("age-secret-key", "/root/.config/sops/age/keys.txt", "# created: 2024-06-11\n", bech32Upper("age-secret-key-", ageData), ""),
		line("heroku-api-key", "/app/deploy.sh", "HEROKU_API_KEY=", "HRKU-"+g.s(alnumC, 60), ""),
		line("digitalocean-token", "/app/deploy.sh", "DO_TOKEN=", "dop_v1_"+g.s(hexC, 64), ""),
		line("shopify-token", "/app/shop.rb", `token = "`, "shpat_"+g.s(hexC, 32), `"`),
		line("doppler-token", "/app/deploy.sh", "DOPPLER_TOKEN=", "dp.st."+g.s(alnumC, 43), ""),
		line("postman-api-key", "/app/ci.sh", "POSTMAN_API_KEY=", "PMAK-"+g.s(hexC, 24)+"-"+g.s(hexC, 34), ""),
		line("pulumi-access-token", "/app/ci.sh", "PULUMI_ACCESS_TOKEN=", "pul-"+g.s(hexC, 40), ""),
		line("sentry-token", "/app/.sentryclirc", "[auth]\ntoken=", "sntryu_"+g.s(hexC, 64), ""),
		line("grafana-token", "/app/ci.sh", "GRAFANA_TOKEN=", "glsa_"+g.s(alnumC, 32)+"_"+g.s(hexC, 8), ""),
		line("databricks-token", "/app/ci.sh", "DATABRICKS_TOKEN=", "dapi"+g.s(hexC, 32), ""),
		line("linear-api-key", "/app/ci.sh", "LINEAR=", "lin_api_"+g.s(alnumC, 40), ""),
		line("newrelic-user-api-key", "/app/ci.sh", "NEW_RELIC_API_KEY=", "NRAK-"+g.s(upperC+digitsC, 27), ""),
		line("okta-api-token", "/app/ci.sh", "OKTA_API_TOKEN=", "00"+g.s(urlC, 38)+"x9", ""),

		line("jwt", "/app/client.js", `headers: {Authorization: "Bearer `, jwt, `"}`),

		line("git-credentials", "/root/.git-credentials", "https://deploy-bot:", g.s(alnumC, 40), "@git.internal.corp"),
		line("netrc-password", "/root/.netrc", "machine api.internal.corp\n  login deploy\n  password ", pw(), ""),
		line("pgpass-password", "/var/lib/postgresql/.pgpass", "db.internal:5432:app:app:", pw(), ""),
		line("htpasswd-hash", "/etc/nginx/.htpasswd", "admin:$", apr1, ""),
		line("shadow-password-hash", "/etc/shadow", "root:$", shadowHash, ":19700:0:99999:7:::"),
		line("wp-config-db-password", "/var/www/html/wp-config.php", "define( 'DB_PASSWORD', '", pw(), "' );"),
		line("wp-config-auth-salt", "/var/www/html/wp-config.php", "define( 'AUTH_KEY', '", wpSalt, "' );"),
		line("maven-settings-password", "/root/.m2/settings.xml", "<server><id>internal</id><username>ci</username><password>", pw(), "</password></server>"),

		line("postgres-url-password", "/app/config.py", `DATABASE_URL = "postgresql://app:`, pw(), `@db.internal:5432/app"`),
		line("mysql-url-password", "/app/config.py", `URL = "mysql://root:`, pw(), `@10.0.0.5:3306/shop"`),
		line("mongodb-url-password", "/app/config.js", `uri: "mongodb+srv://svc:`, pw(), `@cluster0.ab1cd.mongodb.net/orders?retryWrites=true"`),
		line("redis-url-password", "/app/config.js", `redis: "redis://:`, pw(), `@cache.internal:6379/0"`),
		line("amqp-url-password", "/app/config.js", `broker: "amqps://orders:`, pw(), `@mq.internal:5671/prod"`),
		line("jdbc-url-password", "/app/app.conf.xml", `<url>jdbc:postgresql://db:5432/app?user=app&amp;password=`, pw(), `</url>`),
		line("connection-string-password", "/app/Web.config", `connectionString="Server=tcp:orders.database.windows.net,1433;Database=orders;User ID=app;Password=`, pw(), `;Encrypt=true;"`),
		line("curl-basic-auth", "/build/fetch.sh", "curl -fsSL -u deploy:", pw(), " https://artifacts.internal/pkg.tgz -o pkg.tgz"),
		line("wget-password", "/build/fetch.sh", "wget --user=deploy --password=", pw(), " https://artifacts.internal/pkg.tgz"),
		line("url-basic-auth", "/app/settings.py", `REPO = "https://ci:`, g.s(alnumC, 20), `@git.internal.corp/org/repo.git"`),

		line("generic-env-secret", "/app/.env", "NODE_ENV=production\nDB_PASSWORD=", pw(), ""),
		line("generic-config-secret", "/app/config/application.yml", "spring:\n  datasource:\n    password: ", pw(), ""),

		fileRule("java-keystore", "/app/conf/server.jks", g.jks(1)),
		fileRule("pkcs12-keystore", "/app/conf/client.p12", append([]byte{0x30, 0x82, 0x0a, 0x01, 0x02, 0x01, 0x03, 0x00}, g.bytes(600)...)),
		fileRule("keepass-database", "/root/vault.kdbx", append([]byte{0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5, 0x00}, g.bytes(600)...)),
		fileRule("kerberos-keytab", "/etc/krb5.keytab", append([]byte{0x05, 0x02, 0x00, 0x00, 0x00, 0x47}, g.bytes(200)...)),
		fileRule("gnupg-secret-keyring", "/root/.gnupg/private-keys-v1.d/"+strings.ToUpper(g.s(hexC, 40))+".key",
			[]byte("Created: 20240611T101010\nKey: (private-key (ecc (curve Ed25519)(flags eddsa)(q #40"+strings.ToUpper(g.s(hexC, 64))+"#)(d #"+strings.ToUpper(g.s(hexC, 64))+"#)))\n")),
	}
}
