package misconfig

// Built-image checks, implemented in misconfig/image (config and history)
// and analyzer/imagefacts (files).
const (
	IMGRootUser       = "BH-IMG-001"
	IMGSetuid         = "BH-IMG-002"
	IMGWorldWritable  = "BH-IMG-003"
	IMGSshd           = "BH-IMG-004"
	IMGSudo           = "BH-IMG-005"
	IMGPkgCache       = "BH-IMG-006"
	IMGNoHealthcheck  = "BH-IMG-007"
	IMGSecretEnv      = "BH-IMG-008"
	IMGAddURL         = "BH-IMG-009"
	IMGOld            = "BH-IMG-010"
	IMGManagementPort = "BH-IMG-011"
	IMGPrivilegedPort = "BH-IMG-012"
)

var imageChecks = []Check{
	{
		ID: IMGRootUser, Type: TypeImage, Severity: SeverityHigh,
		Title: "Image runs as root",
		Why: "The image configuration has no User (or sets root/0), so every container started from it runs as UID 0 unless " +
			"the deployment overrides it. Root in a container is root on the host kernel: one escape or writable host mount " +
			"turns an application bug into host compromise.",
		Fix:        "Add a non-root user to the Dockerfile's final stage: RUN useradd --system --uid 10001 app, then USER 10001.",
		References: refs(cisDocker+"4.1: Ensure that a user for the container has been created", dfRef+"#user"),
	},
	{
		ID: IMGSetuid, Type: TypeImage, Severity: SeverityLow,
		Title: "setuid or setgid file",
		Why: "A setuid/setgid binary runs with its owner's (usually root's) privileges whoever starts it. Each one is a ready " +
			"step from 'attacker runs as the app user' to root in the container when it has a bug (su, passwd, mount have all " +
			"had them). Most containers need none.",
		Fix:        "Remove the bits in the final stage: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + (or remove the package), and run with allowPrivilegeEscalation: false / --security-opt no-new-privileges.",
		References: refs(cisDocker + "4.8: Ensure setuid and setgid permissions are removed"),
	},
	{
		ID: IMGWorldWritable, Type: TypeImage, Severity: SeverityMedium,
		Title: "World-writable files outside temporary directories",
		Why: "Files that every user may modify let any process in the container, whatever its user, replace scripts, " +
			"binaries or configuration that a more privileged process later trusts and runs.",
		Fix:        "Fix the permissions in the Dockerfile: chown the files to the user that writes them and chmod o-w (COPY --chmod=644 / --chown=app:app).",
		References: refs(dfRef + "#copy---chown---chmod"),
	},
	{
		ID: IMGSshd, Type: TypeImage, Severity: SeverityMedium,
		Title: "SSH server installed",
		Why: "An sshd in the image is one more network service with credentials to brute force or steal and CVEs to patch, " +
			"and logins through it bypass the audited docker exec / kubectl exec path.",
		Fix:        "Remove openssh-server from the image; use docker exec / kubectl exec or an ephemeral debug container.",
		References: refs(cisDocker+"5.7: Ensure sshd is not run within containers", cisDocker+"4.3: Ensure that unnecessary packages are not installed in the container"),
	},
	{
		ID: IMGSudo, Type: TypeImage, Severity: SeverityLow,
		Title: "sudo installed",
		Why: "sudo is a setuid-root program whose only job is to let a non-root user become root. In a container it defeats " +
			"running as non-root the moment the sudoers rules allow anything, and it is itself a frequent source of privilege-" +
			"escalation CVEs.",
		Fix:        "Remove sudo; perform root steps at build time before USER, or use gosu/su-exec in the entrypoint to drop privileges.",
		References: refs(cisDocker + "4.3: Ensure that unnecessary packages are not installed in the container"),
	},
	{
		ID: IMGPkgCache, Type: TypeImage, Severity: SeverityLow,
		Title: "Package manager cache or index left in the image",
		Why: "Package indexes and downloaded packages (apt lists, apk/yum/dnf caches, pip or npm caches) add megabytes to every " +
			"pull, and a stale index lets later installs or debugging sessions pull outdated versions. It is also a sign the " +
			"build step was not written to clean up after itself.",
		Fix:        "Clean up in the same RUN that installs (rm -rf /var/lib/apt/lists/*, apk add --no-cache, dnf clean all, pip install --no-cache-dir, npm cache clean --force) or use RUN --mount=type=cache.",
		References: refs(bestPract + "#apt-get"),
	},
	{
		ID: IMGNoHealthcheck, Type: TypeImage, Severity: SeverityLow,
		Title: "No HEALTHCHECK in the image configuration",
		Why: "Docker and Compose only know the process is alive, not that it works: a hung server keeps receiving traffic and " +
			"is never restarted. (Kubernetes ignores HEALTHCHECK and uses probes; suppress this check for images that only run there.)",
		Fix:        "Add HEALTHCHECK CMD [\"/app/healthcheck\"] to the Dockerfile's final stage (or HEALTHCHECK NONE to state that none is wanted).",
		References: refs(cisDocker+"4.6: Ensure that HEALTHCHECK instructions have been added to container images", dfRef+"#healthcheck"),
	},
	{
		ID: IMGSecretEnv, Type: TypeImage, Severity: SeverityHigh,
		Title: "Secret-looking environment variable baked into the image",
		Why: "Env entries in the image configuration are readable by anyone who can pull the image (docker inspect), are " +
			"inherited by every container and show up in crash reports and debug endpoints that dump the environment.",
		Fix:        "Remove the ENV from the Dockerfile, rotate the value, and inject it at run time from a secret store.",
		References: refs(cisDocker+"4.10: Ensure secrets are not stored in Dockerfiles", "https://docs.docker.com/build/building/secrets/"),
	},
	{
		ID: IMGAddURL, Type: TypeImage, Severity: SeverityMedium,
		Title: "Layer added from a remote URL",
		Why: "The history shows ADD of a URL: the layer contains whatever that server returned during the build, with no " +
			"integrity check recorded. If the URL was hijacked or the file replaced, the image carries the altered content.",
		Fix:        "Use ADD --checksum=sha256:<hash> <url> or download with curl and verify the checksum in the same RUN.",
		References: refs(cisDocker+"4.9: Ensure that COPY is used instead of ADD in Dockerfiles", dfRef+"#add---checksum"),
	},
	{
		ID: IMGOld, Type: TypeImage, Severity: SeverityMedium,
		Title: "Image has not been rebuilt for a long time",
		Why: "Fixes for the OS packages and libraries in an image only arrive when it is rebuilt. An image built long ago " +
			"almost certainly carries vulnerabilities fixed upstream since, even when no scanner database lists them yet.",
		Fix:        "Rebuild regularly (for example weekly in CI) from an up-to-date base image and redeploy.",
		References: refs(cisDocker + "4.4: Ensure images are scanned and rebuilt to include security patches"),
	},
	{
		ID: IMGManagementPort, Type: TypeImage, Severity: SeverityMedium,
		Title: "Remote-management port exposed",
		Why: "The image declares a port used by remote-login or management services (SSH, telnet, the Docker API, RDP, VNC, " +
			"kubelet or etcd). Such services should not run inside an application container, and publishing them offers an " +
			"attacker a direct way in.",
		Fix:        "Remove the service and its EXPOSE from the Dockerfile.",
		References: refs(cisDocker+"5.7: Ensure sshd is not run within containers", cisDocker+"5.9: Ensure that only needed ports are open on the container"),
	},
	{
		ID: IMGPrivilegedPort, Type: TypeImage, Severity: SeverityLow,
		Title: "Privileged port (below 1024) exposed",
		Why: "Binding a port below 1024 requires root or the NET_BIND_SERVICE capability, so an image that listens there " +
			"pushes deployments to run it as root or with extra capabilities.",
		Fix:        "Listen on an unprivileged port (8080, 8443) in the container and map it to 80/443 in the Service or with -p 80:8080.",
		References: refs(cisDocker + "5.8: Ensure privileged ports are not mapped within containers"),
	},
}
