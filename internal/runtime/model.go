// Package runtime discovers the containers and images on a Linux host: from
// the Docker Engine API when it answers, and from /proc for containers of any
// runtime (Docker, containerd, CRI-O, Podman, plain runc, LXC), including the
// ones no API knows about.
//
// The types below are the JSON contract of `bulkhead inventory --format json`
// and of the snapshots kept in internal/store; other tools rely on them, so
// fields are only ever added, never renamed or removed.
package runtime

import "time"

// Runtime names, as guessed from cgroup paths or reported by an API.
const (
	RuntimeDocker     = "docker"
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "cri-o"
	RuntimePodman     = "podman"
	RuntimeRunc       = "runc"
	RuntimeLXC        = "lxc"
	RuntimeUnknown    = "unknown"
)

// Sources of a container record.
const (
	SourceAPI  = "docker-api" // listed and inspected through the Docker Engine API
	SourceProc = "proc"       // found from /proc/PID/cgroup and /proc/PID/mountinfo
)

// Snapshot is one inventory of a host at one time.
type Snapshot struct {
	// Host is the host name the inventory was taken on; snapshots are
	// compared per host.
	Host string `json:"host"`
	// Time is when discovery started (UTC).
	Time time.Time `json:"time"`
	// Partial is true when a source could not be read completely (the
	// Docker API was absent, timed out or failed; /proc was unreadable).
	// Warnings say why. A partial snapshot is still stored and compared.
	Partial bool `json:"partial"`
	// Warnings are human-readable reasons for Partial and skipped entries.
	Warnings []string `json:"warnings"`
	// Docker describes the Docker Engine that answered, if one did.
	Docker *Engine `json:"docker,omitempty"`
	// Proc counts what the /proc scan read and skipped.
	Proc *ProcStats `json:"proc,omitempty"`
	// Containers are sorted by name, then ID.
	Containers []Container `json:"containers"`
	// Images present on the host (Docker Engine), sorted by ID.
	Images []Image `json:"images"`
}

// Engine identifies the Docker Engine an inventory talked to.
type Engine struct {
	Host       string `json:"host"`                 // the daemon address used, e.g. unix:///var/run/docker.sock
	Version    string `json:"version,omitempty"`    // server version
	APIVersion string `json:"apiVersion,omitempty"` // negotiated API version
}

// ProcStats counts the /proc scan.
type ProcStats struct {
	Root       string `json:"root"`       // the proc root read, e.g. /proc
	Processes  int    `json:"processes"`  // numeric entries seen
	InHost     int    `json:"inHost"`     // processes in the host's mount namespace
	Contained  int    `json:"contained"`  // processes attributed to a container
	Unreadable int    `json:"unreadable"` // entries skipped: permission denied or malformed
	Vanished   int    `json:"vanished"`   // processes that exited while being read
}

// Container is one container, from the Docker API, from /proc, or both.
type Container struct {
	// ID is the runtime's container id: 64 hex digits for Docker,
	// containerd, CRI-O and Podman; the container name for LXC and for runc
	// containers created with a non-hex id.
	ID string `json:"id"`
	// Name is the Docker container name without the leading slash; for
	// /proc-only containers, the LXC name or the id.
	Name string `json:"name"`
	// Runtime is "docker" for API containers and the guess from the cgroup
	// path for /proc ones (docker, containerd, cri-o, podman, runc, lxc,
	// unknown).
	Runtime string `json:"runtime"`
	// Sources lists where the container was seen: "docker-api", "proc".
	Sources []string `json:"sources"`
	// Unmanaged is true for a container seen in /proc that the Docker API
	// did not list: a container started by hand with runc, ctr, podman, lxc…
	// When the API did not answer, only non-Docker containers are flagged.
	Unmanaged bool `json:"unmanaged"`

	// Image is the image reference the container was created from, as
	// given by the user (e.g. "nginx:1.27"), when known.
	Image string `json:"image,omitempty"`
	// ImageID is the image's content id (sha256:…), when known.
	ImageID string `json:"imageID,omitempty"`
	// ImageDigests are the repository digests (name@sha256:…) of the image.
	ImageDigests []string `json:"imageDigests,omitempty"`
	// Command is the entrypoint and arguments the container runs.
	Command []string `json:"command,omitempty"`
	// User is the configured user ("" means the image default, often root).
	User string `json:"user,omitempty"`
	// Created and Started are zero when unknown or never started.
	Created time.Time `json:"created,omitzero"`
	Started time.Time `json:"started,omitzero"`
	// State is created, running, paused, restarting, removing, exited or
	// dead for API containers, and "running" for /proc ones.
	State string `json:"state,omitempty"`

	// Labels are the container's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// ComposeProject is the label com.docker.compose.project.
	ComposeProject string `json:"composeProject,omitempty"`
	// ComposeService is the label com.docker.compose.service.
	ComposeService string `json:"composeService,omitempty"`
	// PodName and PodNamespace are the Kubernetes labels
	// io.kubernetes.pod.name and io.kubernetes.pod.namespace.
	PodName      string `json:"podName,omitempty"`
	PodNamespace string `json:"podNamespace,omitempty"`

	// Networks the container is attached to, sorted by name.
	Networks []Network `json:"networks,omitempty"`
	// Ports published on the host, sorted.
	Ports []Port `json:"ports,omitempty"`
	// Mounts are volumes, bind mounts and tmpfs, sorted by destination.
	Mounts []Mount `json:"mounts,omitempty"`
	// Security is the container's privilege settings (Docker API only).
	Security *Security `json:"security,omitempty"`

	// PIDs are the host PIDs of the container's processes (from /proc),
	// sorted ascending.
	PIDs []int `json:"pids,omitempty"`
	// RootFS is the container's root filesystem as the kernel sees it.
	RootFS *RootFS `json:"rootfs,omitempty"`
	// Bundle is the OCI bundle directory of a runc container, when its
	// state file was readable.
	Bundle string `json:"bundle,omitempty"`
}

// Network is one network attachment.
type Network struct {
	Name       string `json:"name"`
	IPAddress  string `json:"ipAddress,omitempty"`
	MacAddress string `json:"macAddress,omitempty"`
}

// Port is a container port published on the host: HostIP:HostPort →
// ContainerPort/Protocol. HostIP "0.0.0.0" or "::" means every interface.
type Port struct {
	HostIP        string `json:"hostIP"`
	HostPort      string `json:"hostPort"`
	ContainerPort string `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp, udp, sctp
}

// Mount is a volume, bind mount or tmpfs of a container.
type Mount struct {
	Type        string `json:"type"` // bind, volume, tmpfs, npipe, cluster, image
	Name        string `json:"name,omitempty"`
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination"`
	Mode        string `json:"mode,omitempty"`
	RW          bool   `json:"rw"`
	Propagation string `json:"propagation,omitempty"`
}

// Security is what a container is allowed to do beyond the defaults; a
// change in any field is a privilege change.
type Security struct {
	Privileged     bool     `json:"privileged"`
	CapAdd         []string `json:"capAdd,omitempty"`
	CapDrop        []string `json:"capDrop,omitempty"`
	SecurityOpt    []string `json:"securityOpt,omitempty"`
	NetworkMode    string   `json:"networkMode,omitempty"`
	PidMode        string   `json:"pidMode,omitempty"`
	IpcMode        string   `json:"ipcMode,omitempty"`
	UTSMode        string   `json:"utsMode,omitempty"`
	UsernsMode     string   `json:"usernsMode,omitempty"`
	ReadonlyRootfs bool     `json:"readonlyRootfs"`
	Devices        []string `json:"devices,omitempty"` // host path:container path:permissions
}

// RootFS is a container's root mount from /proc/PID/mountinfo.
type RootFS struct {
	FSType string `json:"fsType"`           // overlay, ext4, btrfs, zfs, …
	Source string `json:"source,omitempty"` // mount source: "overlay", /dev/vda, …
	// Root is the directory of the source filesystem mounted as "/" (a bind
	// mount's path on its device, e.g. a runc bundle's rootfs).
	Root string `json:"root,omitempty"`
	// UpperDir and LowerDirs are the overlay directories, top first.
	UpperDir  string   `json:"upperDir,omitempty"`
	LowerDirs []string `json:"lowerDirs,omitempty"`
}

// Image is an image present on the host.
type Image struct {
	ID          string    `json:"id"` // sha256:…
	RepoTags    []string  `json:"repoTags,omitempty"`
	RepoDigests []string  `json:"repoDigests,omitempty"`
	Size        int64     `json:"size"` // bytes
	Created     time.Time `json:"created,omitzero"`
	// Containers is how many containers (in any state) use it.
	Containers int64 `json:"containers"`
}

// Report is the JSON document of `bulkhead inventory --format json`:
//
//	{host, time, partial, warnings, docker, proc, containers[], images[],
//	 changes{since, added[], removed[], changed[]}}
//
// Changes compare this snapshot with the previous stored one of the same
// host; they are empty on the first run or when no store is used.
type Report struct {
	Snapshot
	Changes Changes `json:"changes"`
}

// ChangesReport is the JSON document of `bulkhead inventory --changes
// --format json`: the snapshot's identity and the changes, without the
// container and image lists.
type ChangesReport struct {
	Host     string    `json:"host"`
	Time     time.Time `json:"time"`
	Partial  bool      `json:"partial"`
	Warnings []string  `json:"warnings"`
	Changes  Changes   `json:"changes"`
}
