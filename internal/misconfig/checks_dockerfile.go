package misconfig

// Dockerfile checks, implemented in misconfig/dockerfile.
const (
	DFRootUser          = "BH-DF-001"
	DFLatestTag         = "BH-DF-002"
	DFNoDigest          = "BH-DF-003"
	DFAddURL            = "BH-DF-004"
	DFAddLocal          = "BH-DF-005"
	DFPipeToShell       = "BH-DF-006"
	DFAptRecommends     = "BH-DF-007"
	DFAptLists          = "BH-DF-008"
	DFAptUpdateAlone    = "BH-DF-009"
	DFApkCache          = "BH-DF-010"
	DFYumCache          = "BH-DF-011"
	DFSudo              = "BH-DF-012"
	DFChmodWorld        = "BH-DF-013"
	DFSecretEnv         = "BH-DF-014"
	DFExposeSSH         = "BH-DF-015"
	DFNoHealthcheck     = "BH-DF-016"
	DFInsecureBuild     = "BH-DF-017"
	DFPrivilegedRuntime = "BH-DF-018"
	DFRunCd             = "BH-DF-019"
	DFMultipleCmd       = "BH-DF-020"
	DFShellFormCmd      = "BH-DF-021"
)

var dockerfileChecks = []Check{
	{
		ID: DFRootUser, Type: TypeDockerfile, Severity: SeverityHigh,
		Title: "Image runs as root",
		Why: "The final stage never switches to a non-root USER (or switches back to root), so the application runs as UID 0. " +
			"Root inside a container is the same UID as root on the host: one remote-code-execution bug plus one kernel or runtime escape " +
			"(or a careless volume mount) and the attacker owns the node. A non-root user turns most of those escapes into dead ends and is " +
			"also what Kubernetes' restricted policy and most platforms require.",
		Fix: "Create an unprivileged user and switch to it at the end of the final stage, e.g.\n" +
			"RUN useradd --system --uid 10001 --no-create-home app\nUSER 10001",
		References: refs(cisDocker+"4.1: Ensure that a user for the container has been created", dfRef+"#user", bestPract+"#user"),
	},
	{
		ID: DFLatestTag, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "Base image uses the 'latest' tag or no tag",
		Why: "FROM without a tag means FROM …:latest, which moves whenever the publisher pushes. Two builds of the same commit can then " +
			"ship different operating systems, different libraries and different vulnerabilities, a rebuild can silently pick up a major " +
			"upgrade that breaks the app, and nobody can say afterwards what was actually deployed.",
		Fix:        "Name an explicit version tag, e.g. FROM node:22.12-bookworm-slim (and let Renovate or Dependabot bump it).",
		References: refs(cisDocker+"4.2: Ensure that containers use only trusted base images", bestPract+"#pin-base-image-versions", dfRef+"#from"),
	},
	{
		ID: DFNoDigest, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "Base image not pinned by digest",
		Why: "A tag is a mutable pointer: the publisher (or anyone who compromises their registry account) can point node:22 at " +
			"different bytes tomorrow. Only a digest names exactly the image you reviewed and scanned, which makes builds reproducible " +
			"and stops a tampered base image from flowing into your next build unnoticed.",
		Fix:        "Pin the digest next to the tag, e.g. FROM node:22.12-bookworm-slim@sha256:<digest> (docker buildx imagetools inspect prints it); tools such as Renovate keep it current.",
		References: refs(cisDocker+"4.2: Ensure that containers use only trusted base images", bestPract+"#pin-base-image-versions"),
	},
	{
		ID: DFAddURL, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "ADD downloads a remote URL without a checksum",
		Why: "ADD https://… fetches whatever the server returns at build time and bakes it into the image with no integrity check. " +
			"If the URL is hijacked, the file is replaced upstream or a proxy tampers with it, the build succeeds anyway and ships the " +
			"altered file. The download also escapes the layer cache rules you expect.",
		Fix: "Verify what you download: ADD --checksum=sha256:<hash> https://… /dest (Dockerfile syntax 1.6+), or " +
			"RUN curl -fsSLo /tmp/f https://… && echo '<sha256>  /tmp/f' | sha256sum -c -.",
		References: refs(cisDocker+"4.9: Ensure that COPY is used instead of ADD in Dockerfiles", dfRef+"#add", dfRef+"#add---checksum"),
	},
	{
		ID: DFAddLocal, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "ADD used where COPY was meant",
		Why: "ADD has hidden behaviour that COPY does not: a local tar archive is silently extracted, and a URL is downloaded. " +
			"Using ADD to copy plain files makes every reader wonder which behaviour was intended, and an archive copied with ADD to a " +
			"path that names a file (ADD app.tar.gz /opt/app.tar.gz) ends up unpacked as a directory instead.",
		Fix:        "Use COPY for local files and directories; keep ADD only for archives you intend to extract.",
		References: refs(cisDocker+"4.9: Ensure that COPY is used instead of ADD in Dockerfiles", bestPract+"#add-or-copy", dfRef+"#copy"),
	},
	{
		ID: DFPipeToShell, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "Remote script piped into a shell",
		Why: "curl … | sh runs whatever the server sends, as root, at build time, with no review and no integrity check; a half-" +
			"downloaded script can even execute partially. A compromised install script (this has happened to Codecov, among others) " +
			"then runs inside your build with access to build secrets and ships its changes in your image.",
		Fix: "Download to a file, verify its checksum or signature, then run it: " +
			"RUN curl -fsSLo /tmp/install.sh https://… && echo '<sha256>  /tmp/install.sh' | sha256sum -c - && sh /tmp/install.sh " +
			"(or install a versioned package instead).",
		References: refs(cisDocker+"4.11: Ensure only verified packages are installed", dfRef+"#run"),
	},
	{
		ID: DFAptRecommends, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "apt-get install without --no-install-recommends",
		Why: "By default apt also installs every 'recommended' package, which routinely doubles what lands in the image: more " +
			"binaries, more CVEs to triage and patch, more tools available to an attacker who gets a shell, for nothing the " +
			"application asked for.",
		Fix:        "apt-get install -y --no-install-recommends <packages>",
		References: refs(cisDocker+"4.3: Ensure that unnecessary packages are not installed in the container", bestPract+"#apt-get"),
	},
	{
		ID: DFAptLists, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "apt package lists left in the image",
		Why: "apt-get update downloads the package index (tens of MB) into /var/lib/apt/lists. Unless the same RUN deletes it, " +
			"it is frozen into that layer forever: the image is bigger, and the stale index invites later 'apt-get install' " +
			"steps or debugging sessions to install outdated package versions.",
		Fix: "Clean up in the same RUN: RUN apt-get update && apt-get install -y --no-install-recommends <pkgs> && rm -rf /var/lib/apt/lists/* " +
			"(or use RUN --mount=type=cache,target=/var/lib/apt,sharing=locked).",
		References: refs(bestPract + "#apt-get"),
	},
	{
		ID: DFAptUpdateAlone, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "Package index updated in a RUN of its own",
		Why: "A RUN that only runs apt-get update (or apk update, yum makecache) is cached by the builder independently of the " +
			"install that follows. When you later add a package, the install reuses the months-old cached index and installs " +
			"outdated, possibly vulnerable versions, or fails because they were removed from the mirror.",
		Fix:        "Update and install in the same RUN: RUN apt-get update && apt-get install -y --no-install-recommends <pkgs> && rm -rf /var/lib/apt/lists/*",
		References: refs(cisDocker+"4.7: Ensure update instructions are not used alone in Dockerfiles", bestPract+"#apt-get"),
	},
	{
		ID: DFApkCache, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "apk add without --no-cache",
		Why: "Without --no-cache, apk keeps the downloaded APKINDEX in /var/cache/apk, which stays in the layer: a bigger image " +
			"and a stale package index shipped to production.",
		Fix:        "apk add --no-cache <packages>",
		References: refs(bestPract + "#run"),
	},
	{
		ID: DFYumCache, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "yum/dnf/zypper cache not cleaned",
		Why: "yum, dnf, microdnf and zypper keep repository metadata and downloaded RPMs under /var/cache. Unless the same RUN " +
			"cleans them they stay in the layer: often 100 MB or more of extra image and a stale repository index.",
		Fix:        "End the RUN with the cleanup: … && dnf clean all (yum clean all, microdnf clean all, zypper clean --all) && rm -rf /var/cache/dnf",
		References: refs(bestPract + "#run"),
	},
	{
		ID: DFSudo, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "sudo used in a RUN instruction",
		Why: "Build steps already run as the current USER; sudo in a RUN means the image ships sudo and a sudoers rule that lets " +
			"its non-root user become root again, which undoes the point of dropping root. sudo also has unpredictable TTY and " +
			"signal behaviour in containers.",
		Fix:        "Run the step as root before switching user (USER root … USER app), or use gosu/su-exec in an entrypoint; remove sudo from the image.",
		References: refs(bestPract + "#user"),
	},
	{
		ID: DFChmodWorld, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "World-writable permissions set (chmod 777)",
		Why: "chmod 777 (or o+w) lets every user and process in the container modify those files: an attacker who lands as any " +
			"user can replace scripts or binaries that a more privileged process later runs, or tamper with configuration. It is " +
			"usually a shortcut for a permission problem that has a precise fix.",
		Fix:        "Give ownership to the user that needs it and keep others read-only, e.g. COPY --chown=app:app … or chown -R app:app /data && chmod -R u=rwX,g=rX,o= /data",
		References: refs(dfRef+"#copy---chown---chmod", cisDocker+"4.8: Ensure setuid and setgid permissions are removed"),
	},
	{
		ID: DFSecretEnv, Type: TypeDockerfile, Severity: SeverityHigh,
		Title: "Secret stored in ENV or ARG",
		Why: "ENV values are written into the image configuration and ARG values into the build history: anyone who can pull the " +
			"image reads them with docker inspect or docker history, even after a later layer 'unsets' them, and the Dockerfile " +
			"itself puts the value in source control.",
		Fix: "Pass secrets at build time with RUN --mount=type=secret,id=npm_token … (docker build --secret id=npm_token,env=NPM_TOKEN) " +
			"and at run time through the orchestrator's secret store; never as ENV/ARG values.",
		References: refs(cisDocker+"4.10: Ensure secrets are not stored in Dockerfiles", "https://docs.docker.com/build/building/secrets/"),
	},
	{
		ID: DFExposeSSH, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "SSH or a remote-management port exposed",
		Why: "EXPOSE 22 (or a Docker API, RDP, VNC or telnet port) means the image is built to run a remote-login or management " +
			"daemon. That is one more network service with credentials to steal and patch, and it bypasses the audited " +
			"docker exec / kubectl exec path to the container.",
		Fix:        "Remove the daemon and the EXPOSE; use docker exec or kubectl exec (or an ephemeral debug container) to get a shell.",
		References: refs(cisDocker+"5.7: Ensure sshd is not run within containers", dfRef+"#expose"),
	},
	{
		ID: DFNoHealthcheck, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "No HEALTHCHECK instruction",
		Why: "Without a HEALTHCHECK, Docker and Compose only know whether the process is alive, not whether it works: a hung " +
			"server keeps receiving traffic and is never restarted. (Kubernetes ignores HEALTHCHECK and uses probes instead; if " +
			"the image only runs there, suppress this check.)",
		Fix:        "HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app/healthcheck\"] (or HEALTHCHECK NONE to state that none is wanted)",
		References: refs(cisDocker+"4.6: Ensure that HEALTHCHECK instructions have been added to container images", dfRef+"#healthcheck"),
	},
	{
		ID: DFInsecureBuild, Type: TypeDockerfile, Severity: SeverityHigh,
		Title: "RUN with --security=insecure",
		Why: "RUN --security=insecure runs the step as a fully privileged container with every capability and no seccomp or " +
			"AppArmor profile: a compromised dependency or script in that step can take over the build host or CI runner and " +
			"poison other builds.",
		Fix:        "Remove --security=insecure; perform the privileged operation outside the build, or use a rootless tool designed for it.",
		References: refs(dfRef + "#run---security"),
	},
	{
		ID: DFPrivilegedRuntime, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "Image expects to run privileged",
		Why: "The image's entrypoint or volumes only work in a privileged container or with the Docker socket mounted (it loads " +
			"kernel modules, mounts filesystems, changes iptables or sysctls, runs dockerd or declares the Docker socket as a " +
			"volume). Whoever deploys it must hand it root on the host, and a compromise of this container becomes a compromise " +
			"of the node.",
		Fix:        "Move host-level setup out of the image (node configuration, an init container with a narrowly scoped capability) and drop the privileged requirement.",
		References: refs(cisDocker+"5.5: Ensure that privileged containers are not used", cisDocker+"5.32: Ensure that the Docker socket is not mounted inside any containers"),
	},
	{
		ID: DFRunCd, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "RUN cd … instead of WORKDIR",
		Why: "A cd in RUN only lasts for that RUN; the next instruction starts in the previous directory again, which is a " +
			"classic source of steps that silently operate on the wrong path. WORKDIR states the directory once for every later " +
			"instruction and for the running container.",
		Fix:        "WORKDIR /app, then RUN <command> without the cd.",
		References: refs(dfRef+"#workdir", bestPract+"#workdir"),
	},
	{
		ID: DFMultipleCmd, Type: TypeDockerfile, Severity: SeverityMedium,
		Title: "More than one CMD or ENTRYPOINT in a stage",
		Why: "Only the last CMD and the last ENTRYPOINT of a stage take effect; the earlier ones are dead code that readers " +
			"believe runs. This usually means the image starts something other than what its author thinks.",
		Fix:        "Keep one CMD and at most one ENTRYPOINT per stage; use a small entrypoint script to start several steps.",
		References: refs(dfRef+"#cmd", dfRef+"#entrypoint"),
	},
	{
		ID: DFShellFormCmd, Type: TypeDockerfile, Severity: SeverityLow,
		Title: "CMD/ENTRYPOINT in shell form: signals do not reach the application",
		Why: "In shell form the container's PID 1 is /bin/sh -c, which does not forward SIGTERM. On docker stop or a Kubernetes " +
			"rollout the application never hears the shutdown request, drops in-flight requests and is killed after the grace " +
			"period. A shell-form ENTRYPOINT also ignores CMD and docker run arguments.",
		Fix:        "Use exec form, e.g. CMD [\"node\", \"server.js\"] (or prefix the shell form with exec: CMD exec node server.js).",
		References: refs(dfRef+"#shell-and-exec-form", dfRef+"#entrypoint"),
	},
}
