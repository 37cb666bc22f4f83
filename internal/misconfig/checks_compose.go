package misconfig

// Docker Compose checks, implemented in misconfig/compose.
const (
	CMPPrivileged     = "BH-CMP-001"
	CMPHostNetwork    = "BH-CMP-002"
	CMPHostPID        = "BH-CMP-003"
	CMPHostIPC        = "BH-CMP-004"
	CMPCapAdd         = "BH-CMP-005"
	CMPDangerousCaps  = "BH-CMP-006"
	CMPDockerSocket   = "BH-CMP-007"
	CMPSensitiveMount = "BH-CMP-008"
	CMPPortAllIfaces  = "BH-CMP-009"
	CMPSecurityOpt    = "BH-CMP-010"
	CMPNoUser         = "BH-CMP-011"
	CMPSecretEnv      = "BH-CMP-012"
	CMPLatestTag      = "BH-CMP-013"
)

var composeChecks = []Check{
	{
		ID: CMPPrivileged, Type: TypeCompose, Severity: SeverityCritical,
		Title: "Service runs privileged",
		Why: "privileged: true gives the container every capability, all host devices and no seccomp/AppArmor confinement. " +
			"Root in it is root on the host: mounting the host disk or loading a kernel module is one command away.",
		Fix:        "Remove privileged: true; add only the specific capability needed with cap_add, or a single device with devices:.",
		References: refs(composeRf+"#privileged", cisDocker+"5.5: Ensure that privileged containers are not used"),
	},
	{
		ID: CMPHostNetwork, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Service uses the host network (network_mode: host)",
		Why: "With network_mode: host the container shares the host's network stack: it reaches every service bound to the " +
			"host's localhost, can bind any host port, and is no longer isolated by Docker networks or published-port rules.",
		Fix:        "Remove network_mode: host and publish only the ports needed, bound to an interface: ports: [\"127.0.0.1:8080:8080\"].",
		References: refs(composeRf+"#network_mode", cisDocker+"5.10: Ensure that the host's network namespace is not shared"),
	},
	{
		ID: CMPHostPID, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Service shares the host PID namespace (pid: host)",
		Why: "pid: host lets the container see and signal every process on the host and read their command lines and " +
			"environment, which often contain credentials; with root it can ptrace them.",
		Fix:        "Remove pid: host.",
		References: refs(composeRf+"#pid", cisDocker+"5.16: Ensure that the host's process namespace is not shared"),
	},
	{
		ID: CMPHostIPC, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Service shares the host IPC namespace (ipc: host)",
		Why: "ipc: host exposes the host's shared memory and message queues to the container, letting it read or corrupt " +
			"data exchanged by host processes.",
		Fix:        "Remove ipc: host (use ipc: shareable / service:NAME to share IPC between specific services).",
		References: refs(composeRf+"#ipc", cisDocker+"5.17: Ensure that the host's IPC namespace is not shared"),
	},
	{
		ID: CMPCapAdd, Type: TypeCompose, Severity: SeverityMedium,
		Title: "Capability added beyond Docker's default set",
		Why: "Docker already drops every capability outside a small default set. Adding one back (for example NET_ADMIN, " +
			"SYS_TIME, SYS_NICE) hands the container a slice of root's power over the host kernel that the application rarely needs.",
		Fix:        "Remove it from cap_add; better still, cap_drop: [ALL] and add back only what is needed.",
		References: refs(composeRf+"#cap_add", "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities", cisDocker+"5.4: Ensure that Linux kernel capabilities are restricted within containers"),
	},
	{
		ID: CMPDangerousCaps, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Near-root capability added (SYS_ADMIN, ALL, …)",
		Why: "SYS_ADMIN, ALL, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN and BPF each give a known " +
			"route out of the container (mount, kernel modules, reading any file, tracing host processes): the service is " +
			"nearly privileged.",
		Fix:        "Remove the capability from cap_add.",
		References: refs(composeRf+"#cap_add", cisDocker+"5.4: Ensure that Linux kernel capabilities are restricted within containers"),
	},
	{
		ID: CMPDockerSocket, Type: TypeCompose, Severity: SeverityCritical,
		Title: "Docker socket mounted into the service",
		Why: "Whoever can talk to /var/run/docker.sock controls the Docker daemon, which runs as root: the service (or an " +
			"attacker inside it) can start a privileged container with the host's filesystem mounted. Read-only (:ro) does not " +
			"help; the API still accepts every command.",
		Fix:        "Remove the mount. If a tool must watch containers, put a filtering proxy (such as docker-socket-proxy) in front with only the read endpoints it needs.",
		References: refs(cisDocker+"5.32: Ensure that the Docker socket is not mounted inside any containers", "https://docs.docker.com/engine/security/protect-access/"),
	},
	{
		ID: CMPSensitiveMount, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Sensitive host directory mounted",
		Why: "Bind-mounting /, /etc, /proc, /sys, /boot, /dev, /root, /var/lib/docker and the like gives the container the " +
			"host's credentials and configuration; writable, it can change how the host boots or runs.",
		Fix:        "Mount only the project directory or a named volume; add :ro when the service only reads.",
		References: refs(cisDocker+"5.6: Ensure sensitive host system directories are not mounted on containers", composeRf+"#volumes"),
	},
	{
		ID: CMPPortAllIfaces, Type: TypeCompose, Severity: SeverityMedium,
		Title: "Port published on all interfaces",
		Why: "\"8080:80\" publishes on 0.0.0.0, every interface of the host, and Docker's iptables rules bypass host firewalls " +
			"such as ufw. A development database or admin UI published like this is reachable from the whole network (or the " +
			"internet on a cloud VM).",
		Fix:        "Bind the port to an interface, usually loopback: ports: [\"127.0.0.1:8080:80\"].",
		References: refs(cisDocker+"5.14: Ensure that incoming container traffic is bound to a specific host interface", composeRf+"#ports", "https://docs.docker.com/engine/network/packet-filtering-firewalls/"),
	},
	{
		ID: CMPSecurityOpt, Type: TypeCompose, Severity: SeverityHigh,
		Title: "security_opt disables seccomp, AppArmor or SELinux",
		Why: "seccomp:unconfined, apparmor:unconfined and label:disable switch off the kernel-level confinement that stops most " +
			"container escapes, leaving only namespaces between the container and the host.",
		Fix:        "Remove the option; if one syscall is missing, write a custom seccomp profile that allows just it.",
		References: refs(cisDocker+"5.22: Ensure the default seccomp profile is not Disabled", cisDocker+"5.2: Ensure that, if applicable, an AppArmor Profile is enabled", composeRf+"#security_opt", "https://docs.docker.com/engine/security/seccomp/"),
	},
	{
		ID: CMPNoUser, Type: TypeCompose, Severity: SeverityLow,
		Title: "Service does not set a non-root user",
		Why: "Without user: the service runs as whatever the image says, which for most images is root; with user: root it " +
			"runs as root explicitly. Root in the container is root on the host kernel, so any escape or writable bind mount " +
			"becomes host compromise.",
		Fix:        "user: \"10001:10001\" (or make sure the image sets a non-root USER and state it here too)",
		References: refs(composeRf+"#user", cisDocker+"4.1: Ensure that a user for the container has been created"),
	},
	{
		ID: CMPSecretEnv, Type: TypeCompose, Severity: SeverityHigh,
		Title: "Secret in a plain environment value",
		Why: "A literal password or token under environment: ends up in Git, in docker inspect output and in every log that " +
			"dumps the container's environment.",
		Fix:        "Reference it from the environment or an untracked .env file (DB_PASSWORD: ${DB_PASSWORD}), or use Compose secrets: mounted at /run/secrets.",
		References: refs(composeRf+"#environment", "https://docs.docker.com/compose/how-tos/use-secrets/"),
	},
	{
		ID: CMPLatestTag, Type: TypeCompose, Severity: SeverityMedium,
		Title: "Image uses the 'latest' tag or no tag",
		Why: "image: postgres pulls whatever latest is today; the next docker compose pull may jump a major version, " +
			"migrate data formats or break the app, and two developers run different software.",
		Fix:        "Pin a version: image: postgres:16.4 (or with a digest).",
		References: refs(composeRf+"#image", cisDocker+"4.2: Ensure that containers use only trusted base images"),
	},
}
