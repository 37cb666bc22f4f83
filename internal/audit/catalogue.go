package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Check describes one CIS Docker Benchmark recommendation bulkhead evaluates.
type Check struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Remediation string `json:"remediation"`
}

// Catalogue lists every check, in CIS order.
func Catalogue() []Check { return slices.Clone(catalogue) }

var checkByID = func() map[string]Check {
	m := make(map[string]Check, len(catalogue))
	for _, c := range catalogue {
		if _, dup := m[c.ID]; dup {
			panic("audit: duplicate check " + c.ID)
		}
		m[c.ID] = c
	}
	return m
}()

func auditRuleCheck(id, what string) Check {
	return Check{id, "Ensure auditing is configured for " + what, Medium,
		"Add a watch rule such as `-w " + what + " -k docker` to /etc/audit/rules.d/docker.rules and reload auditd (augenrules --load)."}
}

var catalogue = []Check{
	{"1.1.1", "Ensure a separate partition for containers has been created", Medium,
		"Put /var/lib/docker (or the daemon's data-root) on its own partition or logical volume and mount it there."},
	{"1.1.2", "Ensure only trusted users are allowed to control Docker daemon", High,
		"Review the members of the docker group (gpasswd -d USER docker); each member is root on this host."},
	{"1.1.3", "Ensure auditing is configured for the Docker daemon", Medium,
		"Add a watch rule such as `-w /usr/bin/dockerd -k docker` (the dockerd binary of this host) to /etc/audit/rules.d/docker.rules and reload auditd (augenrules --load)."},
	auditRuleCheck("1.1.4", "/run/containerd"),
	auditRuleCheck("1.1.5", "/var/lib/docker"),
	auditRuleCheck("1.1.6", "/etc/docker"),
	auditRuleCheck("1.1.7", "docker.service"),
	auditRuleCheck("1.1.8", "containerd.sock"),
	auditRuleCheck("1.1.9", "docker.socket"),
	auditRuleCheck("1.1.10", "/etc/default/docker"),
	auditRuleCheck("1.1.11", "/etc/docker/daemon.json"),
	auditRuleCheck("1.1.12", "/etc/containerd/config.toml"),
	auditRuleCheck("1.1.13", "/etc/sysconfig/docker"),
	auditRuleCheck("1.1.14", "/usr/bin/containerd"),
	auditRuleCheck("1.1.15", "/usr/bin/containerd-shim"),
	auditRuleCheck("1.1.16", "/usr/bin/containerd-shim-runc-v1"),
	auditRuleCheck("1.1.17", "/usr/bin/containerd-shim-runc-v2"),
	auditRuleCheck("1.1.18", "/usr/bin/runc"),

	{"2.2", "Ensure network traffic is restricted between containers on the default bridge", Medium,
		`Set "icc": false in /etc/docker/daemon.json (or run dockerd --icc=false) and connect containers that must talk through user-defined networks.`},
	{"2.3", "Ensure the logging level is set to 'info'", Low,
		`Set "log-level": "info" in /etc/docker/daemon.json or drop --log-level from the dockerd command line.`},
	{"2.4", "Ensure Docker is allowed to make changes to iptables", Medium,
		`Remove "iptables": false from daemon.json and --iptables=false from the dockerd command line.`},
	{"2.5", "Ensure insecure registries are not used", High,
		`Remove "insecure-registries" from daemon.json and --insecure-registry from the command line; give the registry a TLS certificate.`},
	{"2.6", "Ensure aufs storage driver is not used", Medium,
		`Use the overlay2 storage driver ("storage-driver": "overlay2").`},
	{"2.7", "Ensure TLS authentication for Docker daemon is configured", Critical,
		`Serve TCP sockets only with "tlsverify": true, "tlscacert", "tlscert" and "tlskey" set, or listen on the unix socket only.`},
	{"2.8", "Ensure the default ulimit is configured appropriately", Low,
		`Set "default-ulimits" in daemon.json (for example nofile and nproc) if the defaults are not right for this host.`},
	{"2.9", "Enable user namespace support", Medium,
		`Set "userns-remap": "default" in daemon.json so root in a container is not root on the host.`},
	{"2.10", "Ensure the default cgroup usage has been confirmed", Low,
		`Leave "cgroup-parent" unset unless a specific cgroup is required, and review the one configured.`},
	{"2.12", "Ensure that authorization for Docker client commands is enabled", Medium,
		`Install an authorization plugin and set "authorization-plugins" in daemon.json if several people or tools use this daemon.`},
	{"2.13", "Ensure centralized and remote logging is configured", Medium,
		`Set "log-driver" to a remote driver (syslog, journald forwarded, fluentd, gelf, splunk, awslogs) with its "log-opts".`},
	{"2.14", "Ensure containers are restricted from acquiring new privileges", High,
		`Set "no-new-privileges": true in /etc/docker/daemon.json.`},
	{"2.15", "Ensure live restore is enabled", Low,
		`Set "live-restore": true in /etc/docker/daemon.json.`},
	{"2.16", "Ensure Userland Proxy is Disabled", Low,
		`Set "userland-proxy": false in /etc/docker/daemon.json.`},
	{"2.17", "Ensure that a daemon-wide custom seccomp profile is applied if appropriate", Medium,
		`Keep the default seccomp profile or set "seccomp-profile" to a stricter one; never "unconfined".`},
	{"2.18", "Ensure that experimental features are not implemented in production", Low,
		`Remove "experimental": true from daemon.json and --experimental from the command line.`},

	{"3.1", "Ensure that the docker.service file ownership is set to root:root", High, "chown root:root on the docker.service unit file."},
	{"3.2", "Ensure that docker.service file permissions are appropriately set", High, "chmod 644 on the docker.service unit file."},
	{"3.3", "Ensure that docker.socket file ownership is set to root:root", High, "chown root:root on the docker.socket unit file."},
	{"3.4", "Ensure that docker.socket file permissions are set to 644 or more restrictive", High, "chmod 644 on the docker.socket unit file."},
	{"3.5", "Ensure that the /etc/docker directory ownership is set to root:root", High, "chown root:root /etc/docker"},
	{"3.6", "Ensure that /etc/docker directory permissions are set to 755 or more restrictively", High, "chmod 755 /etc/docker"},
	{"3.7", "Ensure that registry certificate file ownership is set to root:root", High, "chown root:root /etc/docker/certs.d/*/*"},
	{"3.8", "Ensure that registry certificate file permissions are set to 444 or more restrictively", High, "chmod 444 /etc/docker/certs.d/*/*"},
	{"3.9", "Ensure that TLS CA certificate file ownership is set to root:root", High, "chown root:root on the file named by tlscacert."},
	{"3.10", "Ensure that TLS CA certificate file permissions are set to 444 or more restrictively", High, "chmod 444 on the file named by tlscacert."},
	{"3.11", "Ensure that Docker server certificate file ownership is set to root:root", High, "chown root:root on the file named by tlscert."},
	{"3.12", "Ensure that the Docker server certificate file permissions are set to 444 or more restrictively", High, "chmod 444 on the file named by tlscert."},
	{"3.13", "Ensure that the Docker server certificate key file ownership is set to root:root", Critical, "chown root:root on the file named by tlskey."},
	{"3.14", "Ensure that the Docker server certificate key file permissions are set to 400", Critical, "chmod 400 on the file named by tlskey."},
	{"3.15", "Ensure that the Docker socket file ownership is set to root:docker", Critical, "chown root:docker /var/run/docker.sock"},
	{"3.16", "Ensure that the Docker socket file permissions are set to 660 or more restrictively", Critical, "chmod 660 /var/run/docker.sock"},
	{"3.17", "Ensure that the daemon.json file ownership is set to root:root", High, "chown root:root /etc/docker/daemon.json"},
	{"3.18", "Ensure that daemon.json file permissions are set to 644 or more restrictive", High, "chmod 644 /etc/docker/daemon.json"},
	{"3.19", "Ensure that the /etc/default/docker file ownership is set to root:root", High, "chown root:root /etc/default/docker"},
	{"3.20", "Ensure that the /etc/default/docker file permissions are set to 644 or more restrictively", High, "chmod 644 /etc/default/docker"},
	{"3.21", "Ensure that the /etc/sysconfig/docker file permissions are set to 644 or more restrictively", High, "chmod 644 /etc/sysconfig/docker"},
	{"3.22", "Ensure that the /etc/sysconfig/docker file ownership is set to root:root", High, "chown root:root /etc/sysconfig/docker"},
	{"3.23", "Ensure that the Containerd socket file ownership is set to root:root", Critical, "chown root:root /run/containerd/containerd.sock"},
	{"3.24", "Ensure that the Containerd socket file permissions are set to 660 or more restrictively", Critical, "chmod 660 /run/containerd/containerd.sock"},

	{"4.1", "Ensure that a user for the container has been created", Medium,
		"Run as a non-root user: USER in the Dockerfile or --user UID:GID."},

	{"5.1", "Ensure swarm mode is not enabled, if not needed", Low, "docker swarm leave --force, if this host does not need swarm."},
	{"5.2", "Ensure that, if applicable, an AppArmor Profile is enabled", High,
		"Do not run with --security-opt apparmor=unconfined; use docker-default or a tighter profile."},
	{"5.3", "Ensure that, if applicable, SELinux security options are set", Medium,
		"Do not run with --security-opt label=disable; keep SELinux labelling on."},
	{"5.4", "Ensure that Linux kernel capabilities are restricted within containers", High,
		"Remove --cap-add (SYS_ADMIN, NET_ADMIN, SYS_PTRACE… are nearly root); prefer --cap-drop ALL and add back only what is needed."},
	{"5.5", "Ensure that privileged containers are not used", Critical,
		"Do not run with --privileged; grant only the capabilities and devices the container needs."},
	{"5.6", "Ensure sensitive host system directories are not mounted on containers", High,
		"Do not bind-mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr from the host; mount only the data the container needs, read-only where possible."},
	{"5.8", "Ensure privileged ports are not mapped within containers", Medium,
		"Publish on host ports 1024 and above (-p 8080:80), or put a reverse proxy in front."},
	{"5.9", "Ensure that only needed ports are open on the container", Low,
		"Publish only the ports the service needs; avoid -P."},
	{"5.10", "Ensure that the host's network namespace is not shared", High,
		"Do not run with --network host; publish the needed ports instead."},
	{"5.11", "Ensure that the memory usage for containers is limited", Medium,
		"Set a memory limit: --memory 512m (deploy.resources.limits.memory in Compose)."},
	{"5.12", "Ensure that CPU priority is set appropriately on containers", Low,
		"Set --cpu-shares or --cpus so one container cannot starve the others."},
	{"5.13", "Ensure that the container's root filesystem is mounted as read only", Medium,
		"Run with --read-only and mount writable tmpfs or volumes only where the application writes."},
	{"5.14", "Ensure that incoming container traffic is bound to a specific host interface", Medium,
		"Publish on one address: -p 127.0.0.1:8080:80 (or the interface that should serve it), not on 0.0.0.0."},
	{"5.15", "Ensure that the 'on-failure' container restart policy is set to '5'", Low,
		"Use --restart on-failure:5 instead of always, unless-stopped or unlimited on-failure."},
	{"5.16", "Ensure that the host's process namespace is not shared", High, "Do not run with --pid host."},
	{"5.17", "Ensure that the host's IPC namespace is not shared", Medium, "Do not run with --ipc host."},
	{"5.18", "Ensure that host devices are not directly exposed to containers", Medium,
		"Do not pass --device unless needed; when needed, grant only r or rw, never m."},
	{"5.20", "Ensure mount propagation mode is not set to shared", Medium,
		"Do not mount volumes with shared or rshared propagation."},
	{"5.21", "Ensure that the host's UTS namespace is not shared", Medium, "Do not run with --uts host."},
	{"5.22", "Ensure the default seccomp profile is not Disabled", High,
		"Do not run with --security-opt seccomp=unconfined."},
	{"5.25", "Ensure that cgroup usage is confirmed", Low, "Do not set --cgroup-parent unless needed; review the one set."},
	{"5.26", "Ensure that the container is restricted from acquiring additional privileges", Medium,
		"Run with --security-opt no-new-privileges (or set it daemon-wide, 2.14)."},
	{"5.27", "Ensure that container health is checked at runtime", Low,
		"Add a HEALTHCHECK to the image or --health-cmd to the container."},
	{"5.29", "Ensure that the PIDs cgroup limit is used", Medium, "Set --pids-limit (for example 100)."},
	{"5.30", "Ensure that Docker's default bridge 'docker0' is not used", Low,
		"Attach the container to a user-defined network (docker network create) instead of the default bridge."},
	{"5.31", "Ensure that the host's user namespaces are not shared", Medium, "Do not run with --userns host."},
	{"5.32", "Ensure that the Docker socket is not mounted inside any containers", Critical,
		"Do not mount /var/run/docker.sock (or the containerd socket) into containers; whoever controls it is root on the host."},
}

// UnknownPatterns returns the patterns (ids, sections, globs; comma lists
// allowed) that name no check in the catalogue. FAIL and ALL are known.
func UnknownPatterns(patterns []string) []string {
	var out []string
	for _, p := range newSelector(patterns, nil).only {
		if strings.EqualFold(p, "FAIL") || strings.EqualFold(p, "ALL") {
			continue
		}
		if !slices.ContainsFunc(catalogue, func(c Check) bool { return matchID(p, c.ID) }) {
			out = append(out, p)
		}
	}
	return out
}

// WriteCatalogue lists the checks as a table or JSON.
func WriteCatalogue(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(catalogue)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE")
	for _, c := range catalogue {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Severity, c.Title)
	}
	return tw.Flush()
}
