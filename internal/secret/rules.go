package secret

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
)

// The built-in rule set. Every rule is ours: patterns follow the token
// formats the vendors document (prefixes, lengths, alphabets, checksums).
// Order matters where two rules can match the same secret: the first one
// claims it, so specific rules come before generic ones.

// Shared pattern pieces.
const (
	tokEnd   = `(?:[^A-Za-z0-9_-]|$)`           // end of a base64url-ish token
	assign   = `["']?\s*(?:[:=]|=>|:=)\s*["']?` // key ... = / : value, quotes optional
	b64Body  = `([A-Za-z0-9+/=\s\\]{64,})`      // PEM body, real or JSON-escaped newlines
	pemBlank = `(?:\s|\\[nr])*`
)

var builtin = sync.OnceValue(func() []Rule {
	re := regexp.MustCompile
	kw := func(k ...string) []string { return k }
	paths := func(p string) *regexp.Regexp { return re(p) }
	rules := []Rule{
		// ---- Private keys -------------------------------------------------
		{ID: "private-key-rsa", Category: "Private key", Title: "RSA private key", Severity: Critical,
			Keywords: kw("begin rsa private key"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN RSA PRIVATE KEY-----` + pemBlank + b64Body), Validate: validDER},
		{ID: "private-key-ec", Category: "Private key", Title: "EC private key", Severity: Critical,
			Keywords: kw("begin ec private key"), Span: 4 << 10, squeeze: true,
			Regex: re(`-----BEGIN EC PRIVATE KEY-----` + pemBlank + b64Body), Validate: validDER},
		{ID: "private-key-dsa", Category: "Private key", Title: "DSA private key", Severity: Critical,
			Keywords: kw("begin dsa private key"), Span: 4 << 10, squeeze: true,
			Regex: re(`-----BEGIN DSA PRIVATE KEY-----` + pemBlank + b64Body), Validate: validDER},
		{ID: "private-key-pem-encrypted", Category: "Private key", Title: "Encrypted PEM private key (Proc-Type)", Severity: High,
			Keywords: kw("4,encrypted"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN (?:RSA|EC|DSA) PRIVATE KEY-----` + pemBlank + `Proc-Type:\s*4,ENCRYPTED` +
				`(?:\s|\\[nr])+DEK-Info:\s*[A-Z0-9-]+,[0-9A-Fa-f]+` + pemBlank + b64Body)},
		{ID: "private-key-pkcs8", Category: "Private key", Title: "PKCS#8 private key", Severity: Critical,
			Keywords: kw("begin private key"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN PRIVATE KEY-----` + pemBlank + b64Body), Validate: validDER},
		{ID: "private-key-pkcs8-encrypted", Category: "Private key", Title: "Encrypted PKCS#8 private key", Severity: High,
			Keywords: kw("begin encrypted private key"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN ENCRYPTED PRIVATE KEY-----` + pemBlank + b64Body), Validate: validDER},
		{ID: "private-key-openssh", Category: "Private key", Title: "OpenSSH private key", Severity: Critical,
			Keywords: kw("begin openssh private key"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN OPENSSH PRIVATE KEY-----` + pemBlank + b64Body), Validate: opensshPlain},
		{ID: "private-key-openssh-encrypted", Category: "Private key", Title: "Encrypted OpenSSH private key", Severity: High,
			Keywords: kw("begin openssh private key"), Span: 16 << 10, squeeze: true,
			Regex: re(`-----BEGIN OPENSSH PRIVATE KEY-----` + pemBlank + b64Body), Validate: opensshEncrypted},
		{ID: "private-key-pgp", Category: "Private key", Title: "PGP private key block", Severity: Critical,
			Keywords: kw("begin pgp private key block"), Span: 32 << 10, squeeze: true,
			Regex: re(`-----BEGIN PGP PRIVATE KEY BLOCK-----` + pemBlank +
				`(?:[A-Za-z][A-Za-z-]*: [^\n\\]*(?:\r?\n|\\r?\\n))*` + pemBlank + b64Body), Validate: validPGPSecret},
		{ID: "private-key-putty", Category: "Private key", Title: "PuTTY private key (unencrypted)", Severity: Critical,
			Keywords: kw("putty-user-key-file-"), Span: 8 << 10, squeeze: true,
			Regex: re(`PuTTY-User-Key-File-[23]: [a-z0-9-]+\r?\nEncryption: none\r?\n(?:[^\n]*\n){0,40}?` +
				`Private-Lines: \d+\r?\n((?:[A-Za-z0-9+/=]{1,64}\r?\n)+)`)},

		// ---- AWS ----------------------------------------------------------
		{ID: "aws-access-key-id", Category: "AWS", Title: "AWS access key ID", Severity: High,
			reach: 32, Keywords: kw("akia", "asia", "abia", "acca"), Entropy: 3,
			Regex: re(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`)},
		{ID: "aws-secret-access-key", Category: "AWS", Title: "AWS secret access key", Severity: Critical,
			Keywords: kw("secret_access_key", "secretaccesskey", "secret-access-key", "aws_secret", "aws-secret", "awssecret"), Entropy: 4,
			Regex: re(`(?i:secret[_.-]?access[_.-]?key|aws[_.-]?secret(?:[_.-]?key)?)` + assign +
				`([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`)},
		{ID: "aws-session-token", Category: "AWS", Title: "AWS temporary session token", Severity: High,
			Keywords: kw("iqojb3jpz2lux2", "fwogzxivyxdz"), Entropy: 4,
			Regex: re(`\b((?:IQoJb3JpZ2luX2|FwoGZXIvYXdz)[A-Za-z0-9/+]{100,}={0,2})`)},
		{ID: "aws-session-token-assignment", Category: "AWS", Title: "AWS session token", Severity: High,
			Keywords: kw("session_token", "sessiontoken", "session-token", "security-token", "security_token"), Entropy: 4.5,
			Regex: re(`(?i:(?:aws[_.-]?)?session[_.-]?token|x-amz-security-token|security[_.-]?token)` + assign +
				`([A-Za-z0-9/+]+={0,2})`), Validate: minLen(200)},
		{ID: "aws-mws-auth-token", Category: "AWS", Title: "Amazon MWS auth token", Severity: High,
			Keywords: kw("amzn.mws."),
			Regex:    re(`\b(amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`)},
		{ID: "aws-bedrock-api-key", Category: "AWS", Title: "Amazon Bedrock API key", Severity: High,
			Keywords: kw("absk"), Entropy: 4,
			Regex: re(`\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,}={0,2})`)},

		// ---- Google Cloud ---------------------------------------------------
		{ID: "gcp-service-account-key", Category: "Google Cloud", Title: "GCP service account key file", Severity: Critical,
			Keywords: kw(`"private_key_id"`), Entropy: 3,
			Regex: re(`"private_key_id"\s*:\s*"([0-9a-f]{40})"`)},
		{ID: "gcp-api-key", Category: "Google Cloud", Title: "Google API key", Severity: High,
			Keywords: kw("aiza"), Entropy: 3.5,
			Regex: re(`\b(AIza[0-9A-Za-z_-]{35})` + tokEnd)},
		{ID: "gcp-oauth-client-secret", Category: "Google Cloud", Title: "Google OAuth client secret", Severity: High,
			Keywords: kw("gocspx-"), Entropy: 3.5,
			Regex: re(`\b(GOCSPX-[A-Za-z0-9_-]{28})` + tokEnd)},
		{ID: "gcp-oauth-access-token", Category: "Google Cloud", Title: "Google OAuth access token", Severity: Medium,
			Keywords: kw("ya29."), Entropy: 4,
			Regex: re(`\b(ya29\.[0-9A-Za-z_-]{60,})`)},
		{ID: "gcp-oauth-refresh-token", Category: "Google Cloud", Title: "Google OAuth refresh token", Severity: High,
			Keywords: kw("1//0"), Entropy: 4,
			Regex: re(`(?:^|[^A-Za-z0-9/:])(1//0[0-9A-Za-z_-]{60,})`)},

		// ---- Azure ----------------------------------------------------------
		{ID: "azure-cosmosdb-connection-string", Category: "Azure", Title: "Azure Cosmos DB connection string", Severity: Critical,
			Keywords: kw("documents.azure.com"),
			Regex:    re(`AccountEndpoint=https://[a-z0-9-]+\.documents\.azure\.com[^;\s"']*;\s*AccountKey=([A-Za-z0-9+/]{86}==)`)},
		{ID: "azure-storage-connection-string", Category: "Azure", Title: "Azure Storage connection string", Severity: Critical,
			Keywords: kw("accountkey="),
			Regex:    re(`AccountName=[a-z0-9]{3,24};\s*AccountKey=([A-Za-z0-9+/]{86}==)`)},
		{ID: "azure-storage-account-key", Category: "Azure", Title: "Azure Storage account key", Severity: Critical,
			need: "==", reach: 256, Keywords: kw("accountkey", "account_key", "account-key", "storagekey", "storage_key", "storage-key"), Entropy: 4.5,
			Regex: re(`(?i:(?:storage|account)[_.-]?key)` + assign + `([A-Za-z0-9+/]+==)`), Validate: minLen(88)},
		{ID: "azure-sas-token", Category: "Azure", Title: "Azure shared access signature", Severity: High,
			Keywords: kw("sig="), Entropy: 4,
			Regex: re(`\bsv=\d{4}-\d{2}-\d{2}[^\s"'<>]*?[?&]sig=([A-Za-z0-9%+/]{40,100}(?:%3[Dd]|=){0,2})`)},
		{ID: "azure-shared-access-key", Category: "Azure", Title: "Azure Service Bus / Event Hubs / IoT Hub shared access key", Severity: High,
			Keywords: kw("sharedaccesskey="), Entropy: 4,
			Regex: re(`SharedAccessKey=([A-Za-z0-9+/]{43}=)`)},
		{ID: "azure-app-configuration-connection-string", Category: "Azure", Title: "Azure App Configuration connection string", Severity: High,
			Keywords: kw(".azconfig.io"), Entropy: 4,
			Regex: re(`Endpoint=https://[a-z0-9-]+\.azconfig\.io;\s*Id=[^;\s]+;\s*Secret=([A-Za-z0-9+/]{40,}={0,2})`)},
		{ID: "azure-ad-client-secret", Category: "Azure", Title: "Microsoft Entra ID (Azure AD) client secret", Severity: High,
			reach: 64, Keywords: kw("q~"), Entropy: 3.5,
			Regex: re(`(?:^|[^A-Za-z0-9_~.-])([A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.-]|$)`)},
		{ID: "azure-devops-pat", Category: "Azure", Title: "Azure DevOps personal access token", Severity: High,
			Keywords: kw("azdo"), Entropy: 4,
			Regex: re(`\b([A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9]{18}AZDO[A-Za-z0-9]{4})\b`)},
		{ID: "azure-identifiable-key", Category: "Azure", Title: "Azure identifiable secret (CASK key)", Severity: High,
			Keywords: kw("jqqj9"), Entropy: 4,
			Regex: re(`\b([A-Za-z0-9]{52}JQQJ9[9DH][A-Za-z0-9]{26})\b`)},

		// ---- GitHub ---------------------------------------------------------
		{ID: "github-pat", Category: "GitHub", Title: "GitHub personal access token (classic)", Severity: Critical,
			Keywords: kw("ghp_"), Validate: base62Checksum, Regex: re(`\b(ghp_[A-Za-z0-9]{36})\b`)},
		{ID: "github-fine-grained-pat", Category: "GitHub", Title: "GitHub fine-grained personal access token", Severity: Critical,
			Keywords: kw("github_pat_"), Entropy: 4, Regex: re(`\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b`)},
		{ID: "github-oauth-token", Category: "GitHub", Title: "GitHub OAuth access token", Severity: High,
			Keywords: kw("gho_"), Validate: base62Checksum, Regex: re(`\b(gho_[A-Za-z0-9]{36})\b`)},
		{ID: "github-user-to-server-token", Category: "GitHub", Title: "GitHub App user-to-server token", Severity: High,
			Keywords: kw("ghu_"), Validate: base62Checksum, Regex: re(`\b(ghu_[A-Za-z0-9]{36})\b`)},
		{ID: "github-app-installation-token", Category: "GitHub", Title: "GitHub App installation (server-to-server) token", Severity: High,
			Keywords: kw("ghs_"), Validate: base62Checksum, Regex: re(`\b(ghs_[A-Za-z0-9]{36})\b`)},
		{ID: "github-refresh-token", Category: "GitHub", Title: "GitHub App refresh token", Severity: High,
			Keywords: kw("ghr_"), Validate: base62Checksum, Regex: re(`\b(ghr_[A-Za-z0-9]{36})\b`)},

		// ---- GitLab ---------------------------------------------------------
		{ID: "gitlab-pat", Category: "GitLab", Title: "GitLab personal, project or group access token", Severity: Critical,
			Keywords: kw("glpat-"), Entropy: 3.5, Regex: re(`\b(glpat-[A-Za-z0-9_-]{20}(?:[A-Za-z0-9_.-]{7,300})?)` + tokEnd)},
		{ID: "gitlab-deploy-token", Category: "GitLab", Title: "GitLab deploy token", Severity: High,
			Keywords: kw("gldt-"), Entropy: 3.5, Regex: re(`\b(gldt-[A-Za-z0-9_-]{20,})` + tokEnd)},
		{ID: "gitlab-runner-token", Category: "GitLab", Title: "GitLab runner authentication token", Severity: High,
			Keywords: kw("glrt-"), Entropy: 3.5, Regex: re(`\b(glrt-[A-Za-z0-9_.-]{20,})` + tokEnd)},
		{ID: "gitlab-runner-registration-token", Category: "GitLab", Title: "GitLab runner registration token", Severity: High,
			Keywords: kw("gr1348941"), Entropy: 3.5, Regex: re(`\b(GR1348941[A-Za-z0-9_-]{20})` + tokEnd)},
		{ID: "gitlab-pipeline-trigger-token", Category: "GitLab", Title: "GitLab pipeline trigger token", Severity: High,
			Keywords: kw("glptt-"), Entropy: 3, Regex: re(`\b(glptt-[0-9a-f]{40})\b`)},
		{ID: "gitlab-oauth-app-secret", Category: "GitLab", Title: "GitLab OAuth application secret", Severity: High,
			Keywords: kw("gloas-"), Entropy: 3, Regex: re(`\b(gloas-[0-9a-f]{64})\b`)},

		// ---- Atlassian / Bitbucket ----------------------------------------
		{ID: "bitbucket-app-password", Category: "Bitbucket", Title: "Bitbucket app password", Severity: High,
			Keywords: kw("atbb"), Entropy: 4, Regex: re(`\b(ATBB[A-Za-z0-9]{32,})\b`)},
		{ID: "bitbucket-access-token", Category: "Bitbucket", Title: "Bitbucket repository/workspace access token", Severity: High,
			Keywords: kw("atctt3"), Entropy: 4, Regex: re(`\b(ATCTT3[A-Za-z0-9_=-]{100,})` + tokEnd)},
		{ID: "atlassian-api-token", Category: "Bitbucket", Title: "Atlassian API token", Severity: High,
			Keywords: kw("atatt3"), Entropy: 4, Regex: re(`\b(ATATT3[A-Za-z0-9_=-]{100,})` + tokEnd)},

		// ---- Slack ----------------------------------------------------------
		{ID: "slack-bot-token", Category: "Slack", Title: "Slack bot token", Severity: High,
			Keywords: kw("xoxb-"), Entropy: 3, Regex: re(`\b(xoxb-[0-9]{8,14}-[0-9]{8,14}-[A-Za-z0-9]{18,32})\b`)},
		{ID: "slack-user-token", Category: "Slack", Title: "Slack user token", Severity: Critical,
			Keywords: kw("xoxp-"), Entropy: 3, Regex: re(`\b(xoxp-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[a-f0-9]{32})\b`)},
		{ID: "slack-app-token", Category: "Slack", Title: "Slack app-level token", Severity: High,
			Keywords: kw("xapp-"), Entropy: 3, Regex: re(`\b(xapp-\d-[A-Z0-9]{9,12}-\d{10,14}-[a-f0-9]{64})\b`)},
		{ID: "slack-config-token", Category: "Slack", Title: "Slack configuration (refresh) token", Severity: High,
			Keywords: kw("xoxe.xox", "xoxe-"), Entropy: 3, Regex: re(`\b(xoxe(?:\.xox[bp])?-\d-[A-Z0-9]{140,200})\b`)},
		{ID: "slack-legacy-token", Category: "Slack", Title: "Slack legacy or workspace token", Severity: High,
			Keywords: kw("xoxa-", "xoxr-", "xoxs-", "xoxo-"), Entropy: 3, Regex: re(`\b(xox[aors]-[0-9]{6,14}-[0-9A-Za-z-]{20,})\b`)},
		{ID: "slack-webhook-url", Category: "Slack", Title: "Slack incoming webhook", Severity: High,
			Keywords: kw("hooks.slack.com/"), Entropy: 3.5,
			Regex: re(`https://hooks\.slack\.com/(?:services|workflows|triggers)/(T[A-Z0-9]{8,12}/[A-Z0-9]{8,12}/[A-Za-z0-9]{20,40})`)},

		// ---- Discord and Microsoft Teams -----------------------------------
		{ID: "discord-bot-token", Category: "Discord", Title: "Discord bot token", Severity: High,
			Keywords: kw("discord"), Validate: validDiscordToken,
			Regex: re(`(?i:discord)[^\n]*?\b([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})` + tokEnd)},
		{ID: "discord-webhook-url", Category: "Discord", Title: "Discord webhook", Severity: High,
			Keywords: kw("discord.com/api/webhooks/", "discordapp.com/api/webhooks/"), Entropy: 4,
			Regex: re(`https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/([A-Za-z0-9_-]{60,72})`)},
		{ID: "discord-client-secret", Category: "Discord", Title: "Discord client secret", Severity: Medium,
			Keywords: kw("discord"), Entropy: 3.5,
			Regex: re(`(?i:discord[_.-]?(?:client[_.-]?)?secret)` + assign + `([A-Za-z0-9_-]{32})` + tokEnd)},
		{ID: "teams-webhook-url", Category: "Microsoft Teams", Title: "Microsoft Teams incoming webhook", Severity: High,
			Keywords: kw("webhook.office.com/"),
			Regex: re(`https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/` +
				`([0-9a-f]{32}/[0-9a-f-]{36}(?:/[A-Za-z0-9_-]{40,60})?)`)},
		{ID: "teams-workflow-webhook-url", Category: "Microsoft Teams", Title: "Teams workflow (Power Automate) webhook", Severity: High,
			Keywords: kw(".logic.azure.com"), Entropy: 4,
			Regex: re(`https://[a-z0-9.-]+\.logic\.azure\.com(?::443)?/workflows/[0-9a-f]{32}/triggers/[^\s"'<>]*?[?&]sig=([A-Za-z0-9_-]{43})`)},

		// ---- Payments and messaging ----------------------------------------
		{ID: "stripe-secret-key", Category: "Stripe", Title: "Stripe live secret key", Severity: Critical,
			Keywords: kw("sk_live_"), Entropy: 3.5, Regex: re(`\b(sk_live_[A-Za-z0-9]{24,247})\b`)},
		{ID: "stripe-restricted-key", Category: "Stripe", Title: "Stripe live restricted key", Severity: High,
			Keywords: kw("rk_live_"), Entropy: 3.5, Regex: re(`\b(rk_live_[A-Za-z0-9]{24,247})\b`)},
		{ID: "stripe-test-key", Category: "Stripe", Title: "Stripe test-mode secret key", Severity: Low,
			Keywords: kw("sk_test_", "rk_test_"), Entropy: 3.5, Regex: re(`\b([sr]k_test_[A-Za-z0-9]{24,247})\b`)},
		{ID: "stripe-webhook-secret", Category: "Stripe", Title: "Stripe webhook signing secret", Severity: High,
			Keywords: kw("whsec_"), Entropy: 4, Regex: re(`\b(whsec_[A-Za-z0-9+/]{32,88})`)},
		{ID: "square-access-token", Category: "Square", Title: "Square access token", Severity: High,
			Keywords: kw("sq0atp-"), Entropy: 3.5, Regex: re(`\b(sq0atp-[A-Za-z0-9_-]{22})` + tokEnd)},
		{ID: "square-oauth-secret", Category: "Square", Title: "Square OAuth secret", Severity: High,
			Keywords: kw("sq0csp-"), Entropy: 3.5, Regex: re(`\b(sq0csp-[A-Za-z0-9_-]{43})` + tokEnd)},
		{ID: "twilio-api-key", Category: "Twilio", Title: "Twilio API key", Severity: High,
			Keywords: kw("twilio"), Entropy: 3, Regex: re(`(?i:twilio)[^\n]*?\b(SK[0-9a-f]{32})\b`)},
		{ID: "twilio-auth-token", Category: "Twilio", Title: "Twilio auth token", Severity: High,
			Keywords: kw("twilio"), Entropy: 3,
			Regex: re(`(?i:twilio[a-z0-9_.-]{0,20}(?:auth[_.-]?token|secret))` + assign + `([0-9a-f]{32})\b`)},
		{ID: "sendgrid-api-key", Category: "SendGrid", Title: "SendGrid API key", Severity: High,
			Keywords: kw("sg."), Entropy: 4, Regex: re(`\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})` + tokEnd)},
		{ID: "mailgun-api-key", Category: "Mailgun", Title: "Mailgun API key", Severity: High,
			Keywords: kw("mailgun"), Entropy: 3,
			Regex: re(`(?i:mailgun)[^\n]*?\b(key-[0-9a-f]{32}|[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b`)},
		{ID: "mailchimp-api-key", Category: "Mailchimp", Title: "Mailchimp API key", Severity: High,
			reach: 48, Keywords: kw("-us"), Entropy: 3, Regex: re(`\b([0-9a-f]{32}-us[0-9]{1,2})\b`)},
		{ID: "telegram-bot-token", Category: "Telegram", Title: "Telegram bot token", Severity: High,
			reach: 64, Keywords: kw(":aa"), Entropy: 3.5, Regex: re(`\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})` + tokEnd)},
		{ID: "firebase-cloud-messaging-key", Category: "Google Cloud", Title: "Firebase Cloud Messaging server key", Severity: High,
			Keywords: kw(":apa91b"), Entropy: 4, Regex: re(`\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})` + tokEnd)},

		// ---- Package registries --------------------------------------------
		{ID: "npm-access-token", Category: "npm", Title: "npm access token", Severity: Critical,
			Keywords: kw("npm_"), Validate: base62Checksum, Regex: re(`\b(npm_[A-Za-z0-9]{36})\b`)},
		{ID: "npmrc-auth-token", Category: "npm", Title: "npm registry token in .npmrc", Severity: High,
			Keywords: kw("_authtoken"), Path: paths(`(?:^|/)\.?npmrc$`),
			Regex: re(`_authToken\s*=\s*["']?([^\s"']{8,})`)},
		{ID: "npmrc-password", Category: "npm", Title: "npm registry password in .npmrc", Severity: High,
			Keywords: kw("_auth", "_password"), Path: paths(`(?:^|/)\.?npmrc$`),
			Regex: re(`(?m)(?:^|:)(?:_auth|_password)\s*=\s*["']?([A-Za-z0-9+/]{8,}={0,2})`), Validate: validNpmrcAuth},
		{ID: "pypi-token", Category: "PyPI", Title: "PyPI API token", Severity: Critical,
			Keywords: kw("pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"), Entropy: 4,
			Regex: re(`\b(pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})`)},
		{ID: "pypirc-password", Category: "PyPI", Title: "Password in .pypirc", Severity: High,
			Keywords: kw("password"), Path: paths(`(?:^|/)\.pypirc$`),
			Regex: re(`(?im)^[ \t]*password[ \t]*[:=][ \t]*(\S{6,})`)},
		{ID: "rubygems-api-key", Category: "RubyGems", Title: "RubyGems API key", Severity: High,
			Keywords: kw("rubygems_"), Entropy: 3, Regex: re(`\b(rubygems_[0-9a-f]{48})\b`)},
		{ID: "gem-credentials", Category: "RubyGems", Title: "API key in ~/.gem/credentials", Severity: High,
			Keywords: kw("api_key"), Path: paths(`(?:^|/)\.gem/credentials$`), Entropy: 3,
			Regex: re(`(?m)^:?[a-z_]*api_key:\s*["']?([0-9a-f]{32})\b`)},
		{ID: "nuget-api-key", Category: "NuGet", Title: "NuGet API key", Severity: High,
			reach: 64, Keywords: kw("oy2"), Entropy: 3.5, Regex: re(`\b(oy2[a-z0-9]{43})\b`)},
		{ID: "nuget-config-password", Category: "NuGet", Title: "Clear-text password in NuGet.Config", Severity: High,
			Keywords: kw("cleartextpassword"),
			Regex:    re(`(?i:<add\s+key=["']ClearTextPassword["']\s+value=)["']([^"']{4,})["']`)},
		{ID: "docker-config-auth", Category: "Docker", Title: "Registry credentials in Docker config.json", Severity: High,
			Keywords: kw(`"auth"`), Validate: validBasicAuth,
			Regex: re(`"auth"\s*:\s*"([A-Za-z0-9+/]{8,}={0,2})"`)},
		{ID: "docker-config-identity-token", Category: "Docker", Title: "Registry identity token in Docker config.json", Severity: High,
			Keywords: kw(`"identitytoken"`), Entropy: 3.5, Path: paths(dockerConfigPath),
			Regex: re(`"identitytoken"\s*:\s*"([^"\s]{16,})"`)},
		{ID: "docker-hub-token", Category: "Docker", Title: "Docker Hub access token", Severity: High,
			Keywords: kw("dckr_pat_", "dckr_oat_"), Entropy: 3.5, Regex: re(`\b(dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,})` + tokEnd)},

		// ---- Kubernetes and Vault ------------------------------------------
		{ID: "kubeconfig-client-key", Category: "Kubernetes", Title: "Client private key in kubeconfig", Severity: Critical,
			Keywords: kw("client-key-data"), Validate: validPEMPrivateKeyB64,
			Regex: re(`client-key-data:\s*["']?(LS0tLS1CRUdJTi[A-Za-z0-9+/=]{60,})`)},
		{ID: "kubeconfig-token", Category: "Kubernetes", Title: "Bearer token in kubeconfig", Severity: High,
			Keywords: kw("token:"), Path: paths(kubeconfigPath), Entropy: 3.5,
			Regex: re(`(?m)^[ \t]*(?:id-)?token:[ \t]*["']?([A-Za-z0-9._~+/=-]{20,})`)},
		{ID: "kubeconfig-password", Category: "Kubernetes", Title: "Basic-auth password in kubeconfig", Severity: High,
			Keywords: kw("password:"), Path: paths(kubeconfigPath),
			Regex: re(`(?m)^[ \t]*password:[ \t]*["']?([^\s"']{6,})`)},
		{ID: "vault-service-token", Category: "HashiCorp Vault", Title: "HashiCorp Vault service token", Severity: High,
			Keywords: kw("hvs."), Entropy: 3.5, Regex: re(`\b(hvs\.[A-Za-z0-9_-]{24,})` + tokEnd)},
		{ID: "vault-batch-token", Category: "HashiCorp Vault", Title: "HashiCorp Vault batch token", Severity: High,
			Keywords: kw("hvb."), Entropy: 3.5, Regex: re(`\b(hvb\.[A-Za-z0-9_-]{100,})` + tokEnd)},
		{ID: "vault-legacy-token", Category: "HashiCorp Vault", Title: "HashiCorp Vault token (legacy format)", Severity: High,
			Keywords: kw("vault"), Entropy: 3.5, Validate: hasDigitAndLetter,
			Regex: re(`(?i:vault)[^\n]*?\b(s\.[A-Za-z0-9]{24})\b`)},
		{ID: "terraform-cloud-token", Category: "HashiCorp", Title: "Terraform Cloud / Enterprise API token", Severity: High,
			Keywords: kw(".atlasv1."), Entropy: 4, Regex: re(`\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})` + tokEnd)},

		// ---- AI services ----------------------------------------------------
		{ID: "openai-api-key", Category: "AI", Title: "OpenAI API key", Severity: High,
			Keywords: kw("t3blbkfj"), Entropy: 4,
			Regex: re(`\b(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200})` + tokEnd)},
		{ID: "anthropic-api-key", Category: "AI", Title: "Anthropic API key", Severity: High,
			Keywords: kw("sk-ant-api"), Entropy: 4, Regex: re(`\b(sk-ant-api\d\d-[A-Za-z0-9_-]{93}AA)` + tokEnd)},
		{ID: "anthropic-admin-key", Category: "AI", Title: "Anthropic Admin API key", Severity: Critical,
			Keywords: kw("sk-ant-admin"), Entropy: 4, Regex: re(`\b(sk-ant-admin\d\d-[A-Za-z0-9_-]{93}AA)` + tokEnd)},
		{ID: "huggingface-token", Category: "AI", Title: "Hugging Face access token", Severity: High,
			Keywords: kw("hf_"), Entropy: 4, Validate: mixedCase, Regex: re(`\b(hf_[A-Za-z]{34})\b`)},
		{ID: "huggingface-org-token", Category: "AI", Title: "Hugging Face organization API token", Severity: High,
			Keywords: kw("api_org_"), Entropy: 4, Validate: mixedCase, Regex: re(`\b(api_org_[A-Za-z]{34})\b`)},
		{ID: "groq-api-key", Category: "AI", Title: "Groq API key", Severity: High,
			Keywords: kw("gsk_"), Entropy: 4, Regex: re(`\b(gsk_[A-Za-z0-9]{52})\b`)},
		{ID: "replicate-api-token", Category: "AI", Title: "Replicate API token", Severity: High,
			Keywords: kw("r8_"), Entropy: 4, Validate: hasDigitAndLetter, Regex: re(`\b(r8_[A-Za-z0-9]{37})\b`)},
		{ID: "perplexity-api-key", Category: "AI", Title: "Perplexity API key", Severity: High,
			Keywords: kw("pplx-"), Entropy: 4, Regex: re(`\b(pplx-[A-Za-z0-9]{48})\b`)},
		{ID: "xai-api-key", Category: "AI", Title: "xAI API key", Severity: High,
			Keywords: kw("xai-"), Entropy: 4, Regex: re(`\b(xai-[A-Za-z0-9]{80})\b`)},

		// ---- Other SaaS -----------------------------------------------------
		{ID: "age-secret-key", Category: "Encryption", Title: "age secret key", Severity: Critical,
			Keywords: kw("age-secret-key-1"), Validate: validBech32,
			Regex: re(`\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b`)},
		{ID: "heroku-api-key", Category: "Heroku", Title: "Heroku API key", Severity: High,
			Keywords: kw("hrku-"), Entropy: 4, Regex: re(`\b(HRKU-[A-Za-z0-9_-]{58,64})` + tokEnd)},
		{ID: "digitalocean-token", Category: "DigitalOcean", Title: "DigitalOcean access or refresh token", Severity: High,
			Keywords: kw("dop_v1_", "doo_v1_", "dor_v1_"), Entropy: 3, Regex: re(`\b(do[opr]_v1_[a-f0-9]{64})\b`)},
		{ID: "shopify-token", Category: "Shopify", Title: "Shopify access token or shared secret", Severity: High,
			Keywords: kw("shpat_", "shpca_", "shppa_", "shpss_"), Entropy: 3, Regex: re(`\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b`)},
		{ID: "doppler-token", Category: "Doppler", Title: "Doppler token", Severity: High,
			Keywords: kw("dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."), Entropy: 4,
			Regex: re(`\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b`)},
		{ID: "postman-api-key", Category: "Postman", Title: "Postman API key", Severity: High,
			Keywords: kw("pmak-"), Entropy: 3, Regex: re(`\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b`)},
		{ID: "pulumi-access-token", Category: "Pulumi", Title: "Pulumi access token", Severity: High,
			Keywords: kw("pul-"), Entropy: 3, Regex: re(`\b(pul-[a-f0-9]{40})\b`)},
		{ID: "sentry-token", Category: "Sentry", Title: "Sentry auth token", Severity: High,
			Keywords: kw("sntrys_", "sntryu_"), Entropy: 4, Regex: re(`\b(sntry[su]_[A-Za-z0-9+/=_-]{60,})` + tokEnd)},
		{ID: "grafana-token", Category: "Grafana", Title: "Grafana service account or Cloud token", Severity: High,
			Keywords: kw("glsa_", "glc_eyj"), Entropy: 4,
			Regex: re(`\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_eyJ[A-Za-z0-9+/=_-]{60,})` + tokEnd)},
		{ID: "databricks-token", Category: "Databricks", Title: "Databricks personal access token", Severity: High,
			reach: 48, Keywords: kw("dapi"), Entropy: 3, Regex: re(`\b(dapi[a-f0-9]{32}(?:-\d)?)\b`)},
		{ID: "linear-api-key", Category: "Linear", Title: "Linear API key", Severity: High,
			Keywords: kw("lin_api_"), Entropy: 4, Regex: re(`\b(lin_api_[A-Za-z0-9]{40})\b`)},
		{ID: "newrelic-user-api-key", Category: "New Relic", Title: "New Relic user API key", Severity: High,
			Keywords: kw("nrak-"), Entropy: 3.5, Regex: re(`\b(NRAK-[A-Z0-9]{27})\b`)},
		{ID: "okta-api-token", Category: "Okta", Title: "Okta API token", Severity: High,
			Keywords: kw("okta"), Entropy: 4, Validate: hasDigitAndLetter,
			Regex: re(`(?i:okta)[^\n]*?\b(00[A-Za-z0-9_-]{40})` + tokEnd)},

		// ---- JWT ------------------------------------------------------------
		{ID: "jwt", Category: "JWT", Title: "JSON Web Token", Severity: Medium,
			Keywords: kw("eyj"), Validate: validJWT, grade: gradeJWT,
			Regex: re(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,})` + tokEnd)},

		// ---- Credential files ---------------------------------------------
		{ID: "git-credentials", Category: "Credential file", Title: "Password in .git-credentials", Severity: High,
			pre: urlCreds, Keywords: kw("://"), Path: paths(`(?:^|/)\.git-credentials$`),
			Regex: re(`(?m)^[a-z][a-z0-9+.-]*://[^:@/\s]+:([^@\s]+)@`)},
		{ID: "netrc-password", Category: "Credential file", Title: "Password in .netrc", Severity: High,
			Keywords: kw("password"), Path: paths(`(?:^|/)[._]netrc$`),
			Regex: re(`(?:^|\s)password\s+(\S+)`)},
		{ID: "pgpass-password", Category: "Credential file", Title: "Password in .pgpass", Severity: High,
			Path:  paths(`(?:^|/)\.pgpass$`),
			Regex: re(`(?m)^[^#:\n][^:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:([^\n]+)$`)},
		{ID: "htpasswd-hash", Category: "Credential file", Title: "Password hash in .htpasswd", Severity: Medium,
			Path: paths(`(?:^|/)\.?htpasswd[^/]*$`),
			Regex: re(`(?m)^[^:\s#]+:(?:\$(apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22})|\$(2[aby]?\$\d\d\$[./0-9A-Za-z]{53})|` +
				`\{SHA\}([A-Za-z0-9+/]{27}=)|\$((?:5|6)\$[^:\s]{8,}))\s*$`)},
		{ID: "shadow-password-hash", Category: "Credential file", Title: "Password hash in /etc/shadow", Severity: Medium,
			Keywords: kw(":$"), Path: paths(`(?:^|/)etc/shadow-?$`),
			Regex: re(`(?m)^[a-z_][a-z0-9_.-]*\$?:\$((?:1|2[aby]?|5|6|y|gy|7|sha1|md5)\$[^:\s]{8,}):`)},
		{ID: "wp-config-db-password", Category: "Credential file", Title: "WordPress database password (wp-config.php)", Severity: High,
			Keywords: kw("db_password"), Path: paths(`(?:^|/)wp-config[^/]*\.php$`),
			Regex: re(`define\(\s*['"]DB_PASSWORD['"]\s*,\s*['"]([^'"]{4,})['"]`)},
		{ID: "wp-config-auth-salt", Category: "Credential file", Title: "WordPress authentication key or salt (wp-config.php)", Severity: Medium,
			Keywords: kw("_key'", `_key"`, "_salt'", `_salt"`), Path: paths(`(?:^|/)wp-config[^/]*\.php$`), Entropy: 4,
			Regex: re(`define\(\s*['"](?:AUTH|SECURE_AUTH|LOGGED_IN|NONCE)_(?:KEY|SALT)['"]\s*,\s*'([^']{32,})'`)},
		{ID: "maven-settings-password", Category: "Credential file", Title: "Password in Maven settings.xml", Severity: High,
			Keywords: kw("<password>"), Path: paths(`(?:^|/)settings(?:-security)?\.xml$`),
			Regex: re(`<password>([^<\s]{4,})</password>`)},

		// ---- Connection strings and URLs -----------------------------------
		{ID: "postgres-url-password", Category: "Database", Title: "PostgreSQL URL with password", Severity: High,
			pre: urlCreds, Keywords: kw("postgres", "pgsql"), Regex: re(`(?i:\b(?:postgres(?:ql)?|pgsql)(?:\+[a-z0-9]+)?)://` + urlUserPass)},
		{ID: "mysql-url-password", Category: "Database", Title: "MySQL / MariaDB URL with password", Severity: High,
			pre: urlCreds, Keywords: kw("mysql", "mariadb"), Regex: re(`(?i:\b(?:mysql|mariadb)(?:\+[a-z0-9]+)?)://` + urlUserPass)},
		{ID: "mongodb-url-password", Category: "Database", Title: "MongoDB URL with password", Severity: High,
			pre: urlCreds, Keywords: kw("mongodb"), Regex: re(`(?i:\bmongodb(?:\+srv)?)://` + urlUserPass)},
		{ID: "redis-url-password", Category: "Database", Title: "Redis URL with password", Severity: High,
			pre: urlCreds, Keywords: kw("redis"), Regex: re(`(?i:\brediss?)://` + `[^:@/\s"'<>]*:([^@/\s"'<>]{3,})@[A-Za-z0-9][A-Za-z0-9.-]*`)},
		{ID: "amqp-url-password", Category: "Database", Title: "AMQP (RabbitMQ) URL with password", Severity: High,
			pre: urlCreds, Keywords: kw("amqp"), Regex: re(`(?i:\bamqps?)://` + urlUserPass)},
		{ID: "jdbc-url-password", Category: "Database", Title: "JDBC URL with password", Severity: High,
			Keywords: kw("jdbc:"), Regex: re(`(?i)\bjdbc:[a-z0-9]+:[^\s"'<>]*?[;?&:]password=([^;&\s"'<>]{4,})`)},
		{ID: "connection-string-password", Category: "Database", Title: "Password in an ADO.NET/ODBC connection string", Severity: High,
			Keywords: kw("password=", "pwd="),
			Regex: re(`(?i)\b(?:server|data source|host|address|addr)\s*=\s*[^;"'\n=(){}]{1,100};` +
				`(?:\s*[a-z][a-z0-9 _]*=[^;"'\n=(){}]*;)*?\s*(?:password|pwd)\s*=\s*([^;"'\s]{4,})`)},
		{ID: "curl-basic-auth", Category: "Credential in command", Title: "Password in a curl -u/--user argument", Severity: High,
			need: "-u", Validate: notNumeric, Keywords: kw("curl"),
			Regex: re(`\bcurl\b[^\n]*?\s(?:-u|--user)(?:\s+|=)?["']?[^:\s"']{1,64}:([^\s"']{3,128})`)},
		{ID: "wget-password", Category: "Credential in command", Title: "Password in a wget argument", Severity: High,
			need: "password", Keywords: kw("wget"),
			Regex: re(`\bwget\b[^\n]*?\s--(?:http-|ftp-)?password[= ]["']?([^\s"']{3,128})`)},
		{ID: "url-basic-auth", Category: "Credential in URL", Title: "Password in a URL", Severity: Medium,
			pre: urlCreds, reach: 256, Keywords: kw("://"), Entropy: 3, generic: true,
			Regex: re(`(?i:\b(?:https?|ftps?|sftp|ssh|git|smtps?|ldaps?|svn|svn\+ssh))://` + urlUserPass)},

		// ---- Generic assignments (last: specific rules claim first) ---------
		{ID: "generic-env-secret", Category: "Generic", Title: "Secret assigned in an environment file, image config or build step", Severity: High,
			Keywords: genericWords, Path: paths(envPath), Entropy: 2.5, Validate: notPathLike, generic: true,
			Regex: re(`(?i)(?:^|[\s;|&"'(])(?:export\s+|--?)?(?:[a-z_][a-z0-9_.-]*?)?` + genericKey +
				`\s*=\s*(?:"([^"\n]{6,200})"|'([^'\n]{6,200})'|([^\s"'#;|&][^\s"';|&]{5,199}))`)},
		{ID: "generic-config-secret", Category: "Generic", Title: "Secret assigned in a configuration file", Severity: Medium,
			Keywords: genericWords, Path: paths(configPath), Entropy: 3, Validate: notPathLike, generic: true,
			Regex: re(`(?im)^[ \t-]*["']?(?:[a-z0-9_.-]*?)?` + genericKey +
				`["']?[ \t]*[:=][ \t]*(?:"([^"\n]{8,200})"|'([^'\n]{8,200})'|([^\s"'#][^\s]{7,199}))`)},

		// ---- Credential containers (reported as files) ---------------------
		{ID: "java-keystore", Category: "Keystore", Title: "Java keystore holding a private or secret key", Severity: High,
			Path: paths(`(?i)\.(?:jks|jceks|keystore)$|(?:^|/)\.?keystore$`), Validate: jksHasKey},
		{ID: "pkcs12-keystore", Category: "Keystore", Title: "PKCS#12 key store (.p12/.pfx)", Severity: High,
			Path: paths(`(?i)\.(?:p12|pfx)$`), Validate: isDER},
		{ID: "keepass-database", Category: "Keystore", Title: "KeePass password database", Severity: Medium,
			Path: paths(`(?i)\.kdbx?$`), Validate: magicPrefix("\x03\xd9\xa2\x9a")},
		{ID: "kerberos-keytab", Category: "Keystore", Title: "Kerberos keytab", Severity: High,
			Path: paths(`(?i)\.keytab$|(?:^|/)krb5\.keytab$`), Validate: magicPrefix("\x05\x02")},
		{ID: "gnupg-secret-keyring", Category: "Keystore", Title: "GnuPG secret keyring", Severity: High,
			Path: paths(`(?:^|/)\.gnupg/(?:secring\.gpg|private-keys-v1\.d/[^/]+\.key)$`)},
	}
	return rules
})

// Builtin returns a fresh copy of the built-in rules; callers may change
// them.
func Builtin() []*Rule {
	src := builtin()
	out := make([]*Rule, len(src))
	for i := range src {
		r := src[i]
		r.Keywords = append([]string(nil), r.Keywords...)
		out[i] = &r
	}
	return out
}

const (
	// urlUserPass: user:password@host after "scheme://"; the password is
	// the secret.
	urlUserPass = `[^:@/\s"'<>]+:([^@/\s"'<>]{3,})@[A-Za-z0-9][A-Za-z0-9.-]*`

	genericKey = `(?:password|passwd|passphrase|pwd|secret|token|api[_.-]?key|apikey|access[_.-]?key|secret[_.-]?key|` +
		`private[_.-]?key|auth[_.-]?key|client[_.-]?secret|credentials?)`

	envPath = `(?i:(?:^|/)\.env(?:\.[^/]*)?$|(?:^|/)[^/]*\.env$|(?:^|/)\.envrc$)|^config\.[A-Z]|^history\[`

	configPath = `(?i)\.(?:ya?ml|properties|ini|cfg|conf|cnf|toml)$|(?:^|/)appsettings[^/]*\.json$|(?:^|/)(?:secrets?|credentials)\.json$`

	dockerConfigPath = `(?:^|/)\.docker/config\.json$|(?:^|/)config\.json$|(?:^|/)\.?dockercfg$|(?:^|/)auth\.json$`

	kubeconfigPath = `(?i)(?:^|/)\.kube/config$|kubeconfig[^/]*$|(?:^|/)(?:admin|kubelet|controller-manager|scheduler|super-admin)\.conf$`
)

var genericWords = []string{"password", "passwd", "passphrase", "pwd", "secret", "token", "api_key", "apikey",
	"api-key", "api.key", "access_key", "access-key", "accesskey", "private_key", "private-key", "privatekey",
	"auth_key", "authkey", "credential"}

// urlCreds is a cheap test for "scheme://user:password@": some "://"
// followed, before any blank, quote or slash, by a ":" and then an "@".
func urlCreds(win []byte) bool {
	for {
		i := bytes.Index(win, []byte("://"))
		if i < 0 {
			return false
		}
		win = win[i+3:]
		colon := false
	scan:
		for j := 0; j < len(win) && j < 512; j++ {
			switch win[j] {
			case ':':
				colon = true
			case '@':
				if colon {
					return true
				}
				break scan
			case ' ', '\t', '\n', '\r', '/', '"', '\'', '<', '>', '`':
				break scan
			}
		}
	}
}

// notNumeric rejects all-digit values: "-u 1000:1000" is a uid:gid.
func notNumeric(s string) bool { return strings.Trim(s, "0123456789") != "" }

// minLen returns a Validate accepting secrets of at least n bytes (a
// length check in code keeps the regex program small, and fast).
func minLen(n int) func(string) bool { return func(s string) bool { return len(s) >= n } }

// notPathLike rejects values that are file paths or bare URLs: a
// PASSWORD_FILE-style setting, not a password.
func notPathLike(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "~/") {
		return strings.ContainsAny(s, " ")
	}
	if i := strings.Index(s, "://"); i > 0 && !strings.Contains(s[i:], "@") {
		return false
	}
	return true
}

// validNpmrcAuth: _auth is base64 of user:password; _password is base64 of
// the password alone.
func validNpmrcAuth(s string) bool {
	b := decodeB64(s)
	if len(b) < 4 {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
