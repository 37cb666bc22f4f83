package misconfig

// Kubernetes checks, implemented in misconfig/kubernetes.
const (
	K8SPrivileged        = "BH-K8S-001"
	K8SHostNetwork       = "BH-K8S-002"
	K8SHostPID           = "BH-K8S-003"
	K8SHostIPC           = "BH-K8S-004"
	K8SHostPath          = "BH-K8S-005"
	K8SHostPort          = "BH-K8S-006"
	K8SCapabilities      = "BH-K8S-007"
	K8SDangerousCaps     = "BH-K8S-008"
	K8SNetRaw            = "BH-K8S-009"
	K8SDropAll           = "BH-K8S-010"
	K8SPrivEscalation    = "BH-K8S-011"
	K8SRunAsNonRoot      = "BH-K8S-012"
	K8SRunAsRoot         = "BH-K8S-013"
	K8SSeccompUnconfined = "BH-K8S-014"
	K8SSeccompMissing    = "BH-K8S-015"
	K8SAppArmor          = "BH-K8S-016"
	K8SSELinux           = "BH-K8S-017"
	K8SProcMount         = "BH-K8S-018"
	K8SSysctls           = "BH-K8S-019"
	K8SVolumeTypes       = "BH-K8S-020"
	K8SHostProcess       = "BH-K8S-021"
	K8SMemoryLimit       = "BH-K8S-022"
	K8SRequests          = "BH-K8S-023"
	K8SWritableRoot      = "BH-K8S-024"
	K8SLatestTag         = "BH-K8S-025"
	K8SNoDigest          = "BH-K8S-026"
	K8SAutomountToken    = "BH-K8S-027"
	K8SRuntimeSocket     = "BH-K8S-028"
	K8SSecretEnv         = "BH-K8S-029"
)

const (
	k8sLimits  = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"
	k8sSA      = "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting"
	k8sImages  = "https://kubernetes.io/docs/concepts/containers/images/#image-names"
	k8sSeccomp = "https://kubernetes.io/docs/tutorials/security/seccomp/"
)

var kubernetesChecks = []Check{
	{
		ID: K8SPrivileged, Type: TypeKubernetes, Severity: SeverityCritical,
		Title: "Privileged container",
		Why: "privileged: true turns off almost every isolation mechanism: the container sees all host devices, has every " +
			"capability and no seccomp/AppArmor confinement. Root in this container is root on the node (mounting the host disk " +
			"is one command), so a single vulnerability in the app compromises the node and every pod on it.",
		Fix:        "Remove privileged: true (or set it to false) and grant only the specific capability the workload needs, if any.",
		References: refs(pssBase+"Privileged Containers", pss+"#baseline", secCtx, cisDocker+"5.5: Ensure that privileged containers are not used"),
	},
	{
		ID: K8SHostNetwork, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Pod shares the host's network namespace",
		Why: "hostNetwork: true puts the pod on the node's network stack: it can bind any node port, reach services listening " +
			"on the node's localhost (kubelet, cloud metadata helpers, other daemons), sniff or spoof node traffic, and it " +
			"bypasses NetworkPolicies.",
		Fix:        "Remove hostNetwork: true; expose the pod through a Service (NodePort or LoadBalancer if it must be reachable from outside).",
		References: refs(pssBase+"Host Namespaces", pss+"#baseline", cisDocker+"5.10: Ensure that the host's network namespace is not shared"),
	},
	{
		ID: K8SHostPID, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Pod shares the host's PID namespace",
		Why: "hostPID: true lets the pod see every process on the node, read their environment and command lines (secrets " +
			"included) and, with ptrace or root, inject into them — for example into the kubelet or another pod's process.",
		Fix:        "Remove hostPID: true; use shareProcessNamespace: true if containers of the same pod need to see each other.",
		References: refs(pssBase+"Host Namespaces", pss+"#baseline", cisDocker+"5.16: Ensure that the host's process namespace is not shared"),
	},
	{
		ID: K8SHostIPC, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Pod shares the host's IPC namespace",
		Why: "hostIPC: true exposes the node's shared memory segments and message queues to the pod, letting it read or corrupt " +
			"data that host processes and other hostIPC pods exchange there.",
		Fix:        "Remove hostIPC: true.",
		References: refs(pssBase+"Host Namespaces", pss+"#baseline", cisDocker+"5.17: Ensure that the host's IPC namespace is not shared"),
	},
	{
		ID: K8SHostPath, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "hostPath volume",
		Why: "A hostPath volume mounts a directory of the node into the pod. Writable, it lets the pod plant files the node " +
			"later executes (cron, systemd units, kubelet config) or read other pods' data and credentials; even read-only it " +
			"leaks node secrets. It also ties the pod to whatever happens to be on that node.",
		Fix:        "Use an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim instead; if a node agent truly needs it, mount the narrowest path with readOnly: true.",
		References: refs(pssBase+"HostPath Volumes", pss+"#baseline", cisDocker+"5.6: Ensure sensitive host system directories are not mounted on containers"),
	},
	{
		ID: K8SHostPort, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "Container binds a hostPort",
		Why: "hostPort opens the port on the node's own IP address, bypassing Services and usually NetworkPolicies, and limits " +
			"the workload to one pod per node. It exposes the container to anything that can reach the node.",
		Fix:        "Remove hostPort and publish the port through a Service.",
		References: refs(pssBase+"Host Ports", pss+"#baseline"),
	},
	{
		ID: K8SCapabilities, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "Capability added beyond the baseline set",
		Why: "Each Linux capability is a slice of root's power. Adding ones outside the small baseline set (for example " +
			"NET_RAW, SYS_TIME, IPC_LOCK, SYS_NICE) widens what an attacker in the container can do to the kernel and the " +
			"node, and makes the pod fail admission under the baseline Pod Security Standard.",
		Fix:        "Remove the capability from securityContext.capabilities.add, or document why this workload needs exactly it.",
		References: refs(pssBase+"Capabilities", pss+"#baseline", cisDocker+"5.4: Ensure that Linux kernel capabilities are restricted within containers"),
	},
	{
		ID: K8SDangerousCaps, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Near-root capability added (SYS_ADMIN, ALL, …)",
		Why: "SYS_ADMIN, ALL, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, NET_ADMIN and BPF each give " +
			"a well-known path out of the container (mounting filesystems, loading kernel modules, reading arbitrary files, " +
			"tracing other processes): a container with them is close to privileged.",
		Fix:        "Remove the capability. If a tool needs it, run that tool in a narrowly scoped, separately reviewed workload.",
		References: refs(pssBase+"Capabilities", pss+"#baseline", cisDocker+"5.4: Ensure that Linux kernel capabilities are restricted within containers"),
	},
	{
		ID: K8SNetRaw, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "NET_RAW capability not dropped",
		Why: "Container runtimes grant NET_RAW by default. It lets a compromised container craft raw packets: ARP and DNS " +
			"spoofing against other pods on the node, and it has been the entry point of several kernel privilege escalations. " +
			"Almost no application needs it (ping is the usual exception).",
		Fix:        "securityContext:\n  capabilities:\n    drop: [\"ALL\"]",
		References: refs(pssRestr+"Capabilities", pss+"#restricted", cisDocker+"5.4: Ensure that Linux kernel capabilities are restricted within containers"),
	},
	{
		ID: K8SDropAll, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Capabilities not restricted to drop ALL (and add only NET_BIND_SERVICE)",
		Why: "The restricted Pod Security Standard requires dropping every capability and adding back at most NET_BIND_SERVICE. " +
			"Dropping a list by name leaves every capability you did not think of (and any the runtime adds later), and adding " +
			"back others (CHOWN, SETUID, DAC_OVERRIDE, …) hands the process root powers it can use after a compromise; the pod " +
			"is rejected in namespaces that enforce the restricted profile.",
		Fix:        "securityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]   # only if it binds a port below 1024",
		References: refs(pssRestr+"Capabilities", pss+"#restricted"),
	},
	{
		ID: K8SPrivEscalation, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "allowPrivilegeEscalation not set to false",
		Why: "Unless allowPrivilegeEscalation is false, a process in the container can gain more privileges than its parent, " +
			"through setuid binaries such as su or sudo or file capabilities. That turns 'attacker runs as the app user' " +
			"into 'attacker is root in the container' for free.",
		Fix:        "securityContext:\n  allowPrivilegeEscalation: false",
		References: refs(pssRestr+"Privilege Escalation", pss+"#restricted", secCtx, cisDocker+"5.26: Ensure that the container is restricted from acquiring additional privileges"),
	},
	{
		ID: K8SRunAsNonRoot, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "runAsNonRoot not set to true",
		Why: "Without runAsNonRoot: true the kubelet happily starts the container as root whenever the image (or a future " +
			"version of it) has no USER. Setting it makes the kubelet refuse to start a root container, so the guarantee does " +
			"not depend on how the image happens to be built. The restricted Pod Security Standard requires it.",
		Fix:        "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001   # if the image has no numeric USER",
		References: refs(pssRestr+"Running as Non-root", pss+"#restricted", secCtx),
	},
	{
		ID: K8SRunAsRoot, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Container explicitly runs as root (runAsUser: 0)",
		Why: "runAsUser: 0 forces UID 0 whatever the image says. Root in the container is root on the node's kernel: any escape " +
			"or writable host mount becomes full node compromise.",
		Fix:        "Set a non-zero UID, e.g. runAsUser: 10001, together with runAsNonRoot: true.",
		References: refs(pssRestr+"Running as Non-root user", pss+"#restricted", secCtx),
	},
	{
		ID: K8SSeccompUnconfined, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Seccomp profile set to Unconfined",
		Why: "seccompProfile Unconfined removes the system-call filter, exposing the whole kernel attack surface (hundreds of " +
			"rarely used syscalls, where most container escapes live) to the container.",
		Fix:        "securityContext:\n  seccompProfile:\n    type: RuntimeDefault",
		References: refs(pssBase+"Seccomp", pss+"#baseline", k8sSeccomp, cisDocker+"5.22: Ensure the default seccomp profile is not Disabled"),
	},
	{
		ID: K8SSeccompMissing, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Seccomp profile not set to RuntimeDefault",
		Why: "Unless a profile is set, many clusters still run containers unconfined. RuntimeDefault blocks the syscalls used " +
			"by known container escapes at almost no compatibility cost, and the restricted Pod Security Standard requires it.",
		Fix:        "spec:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault",
		References: refs(pssRestr+"Seccomp", pss+"#restricted", k8sSeccomp),
	},
	{
		ID: K8SAppArmor, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "AppArmor profile set to unconfined",
		Why: "Turning AppArmor off removes the mandatory access control that stops a process in the container from writing to " +
			"/proc and /sys knobs, mounting filesystems and similar escape steps, even when running as root.",
		Fix:        "Remove the override (the runtime default profile applies), or set appArmorProfile: {type: RuntimeDefault}.",
		References: refs(pssBase+"AppArmor", pss+"#baseline", "https://kubernetes.io/docs/tutorials/security/apparmor/", cisDocker+"5.2: Ensure that, if applicable, an AppArmor Profile is enabled"),
	},
	{
		ID: K8SSELinux, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "Custom SELinux options",
		Why: "Setting an SELinux user or role, or a type other than the container types, lets the container run with a label " +
			"that is not confined like a container (spc_t, unconfined_t), switching SELinux protection off for it.",
		Fix:        "Remove seLinuxOptions, or keep only level and a container type (container_t, container_init_t, container_kvm_t, container_engine_t).",
		References: refs(pssBase+"SELinux", pss+"#baseline", cisDocker+"5.3: Ensure that, if applicable, SELinux security options are set"),
	},
	{
		ID: K8SProcMount, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "procMount set to Unmasked",
		Why: "The default /proc mount masks paths such as /proc/kcore, /proc/sysrq-trigger and parts of /proc/sys. " +
			"Unmasked exposes them, giving the container ways to read kernel memory or affect the node.",
		Fix:        "Remove procMount (or set it to Default).",
		References: refs(pssBase+"/proc Mount Type", pss+"#baseline"),
	},
	{
		ID: K8SSysctls, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Unsafe sysctl set",
		Why: "Only a handful of sysctls are namespaced to the pod. Others change kernel settings for the whole node, for every " +
			"other pod on it, or weaken kernel protections; the baseline Pod Security Standard allows only the safe set.",
		Fix:        "Remove the sysctl from spec.securityContext.sysctls, or tune it on the node instead.",
		References: refs(pssBase+"Sysctls", pss+"#baseline", "https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/"),
	},
	{
		ID: K8SVolumeTypes, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Volume type not allowed by the restricted profile",
		Why: "The restricted Pod Security Standard allows only volume types that do not hand the pod direct access to storage " +
			"infrastructure (configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret). " +
			"In-tree types such as nfs, iscsi, rbd or gitRepo mount remote storage with node credentials or run code on the node.",
		Fix:        "Use a PersistentVolumeClaim (the cluster admin defines the PersistentVolume) or one of the allowed volume types.",
		References: refs(pssRestr+"Volume Types", pss+"#restricted"),
	},
	{
		ID: K8SHostProcess, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Windows HostProcess container",
		Why: "A Windows HostProcess container runs directly on the host, with the host's network and file system and " +
			"typically as SYSTEM: there is no container isolation at all.",
		Fix:        "Remove windowsOptions.hostProcess: true.",
		References: refs(pssBase+"HostProcess", pss+"#baseline"),
	},
	{
		ID: K8SMemoryLimit, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "No memory limit",
		Why: "Without resources.limits.memory a leak or an attacker-triggered allocation grows until the node runs out of " +
			"memory, and the kernel OOM killer then kills other pods, possibly critical ones, instead of this one.",
		Fix:        "resources:\n  limits:\n    memory: 512Mi   # measured peak plus headroom",
		References: refs(k8sLimits, cisDocker+"5.11: Ensure that the memory usage for containers is limited"),
	},
	{
		ID: K8SRequests, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "No CPU or memory requests",
		Why: "Without requests the scheduler assumes the container needs nothing, packs it onto busy nodes and gives it the " +
			"lowest priority under pressure (BestEffort pods are evicted first). Noisy neighbours can then starve it, which " +
			"is also an easy denial of service.",
		Fix:        "resources:\n  requests:\n    cpu: 100m\n    memory: 256Mi",
		References: refs(k8sLimits),
	},
	{
		ID: K8SWritableRoot, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Root filesystem is writable",
		Why: "A writable root filesystem lets an attacker who gets code execution download tools, modify the application's own " +
			"files and persist until the pod is replaced. Read-only also surfaces accidental writes to the image during testing.",
		Fix:        "securityContext:\n  readOnlyRootFilesystem: true\n(mount an emptyDir at the paths that must be writable, such as /tmp)",
		References: refs(secCtx, cisDocker+"5.13: Ensure that the container's root filesystem is mounted as read only"),
	},
	{
		ID: K8SLatestTag, Type: TypeKubernetes, Severity: SeverityMedium,
		Title: "Image uses the 'latest' tag or no tag",
		Why: "image: app or app:latest can resolve to a different image on every node and every restart, so replicas of the " +
			"same Deployment may run different code, rollbacks do not roll back, and you cannot tell which build is live.",
		Fix:        "Reference an immutable version, ideally by digest: image: registry.example.com/app:1.4.2@sha256:<digest>",
		References: refs(k8sImages, "https://kubernetes.io/docs/concepts/configuration/overview/#container-images"),
	},
	{
		ID: K8SNoDigest, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Image not pinned by digest",
		Why: "A tag can be re-pointed after the image was reviewed and scanned (by a release mistake or a compromised registry " +
			"account). Only a digest guarantees that every node runs exactly the bytes you approved.",
		Fix:        "image: registry.example.com/app:1.4.2@sha256:<digest> (tools such as Renovate or kbld keep digests current)",
		References: refs(k8sImages),
	},
	{
		ID: K8SAutomountToken, Type: TypeKubernetes, Severity: SeverityLow,
		Title: "Service account token mounted automatically",
		Why: "By default every pod gets an API token for its service account at /var/run/secrets/kubernetes.io/serviceaccount. " +
			"Most applications never call the Kubernetes API; for them the token only helps an attacker who gets in to " +
			"explore and act on the cluster with whatever RBAC the account has.",
		Fix:        "spec:\n  automountServiceAccountToken: false   # or on the ServiceAccount",
		References: refs(k8sSA),
	},
	{
		ID: K8SRuntimeSocket, Type: TypeKubernetes, Severity: SeverityCritical,
		Title: "Container runtime socket mounted",
		Why: "Mounting docker.sock, containerd.sock or crio.sock gives the pod full control of the node's container runtime: " +
			"it can start a privileged container with the host's root filesystem mounted, which is root on the node.",
		Fix:        "Remove the hostPath volume. Build images with a daemonless builder (BuildKit rootless, kaniko) and read container metadata from the Kubernetes API.",
		References: refs(pssBase+"HostPath Volumes", cisDocker+"5.32: Ensure that the Docker socket is not mounted inside any containers"),
	},
	{
		ID: K8SSecretEnv, Type: TypeKubernetes, Severity: SeverityHigh,
		Title: "Secret in a plain environment variable value",
		Why: "An env entry with a literal value for a password, token or key puts the secret in the manifest (and so in Git and " +
			"CI logs) and in the pod spec, which many more people and tools can read than Secrets.",
		Fix:        "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password",
		References: refs("https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables"),
	},
}
