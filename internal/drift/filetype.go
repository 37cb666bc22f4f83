package drift

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io/fs"
	"path"
	"strings"
)

// FileType is what the first bytes of a file say it is.
type FileType int

const (
	TypeData       FileType = iota // anything else
	TypeExecutable                 // an ELF program (ET_EXEC, or PIE)
	TypeLibrary                    // an ELF shared object that is not a program
	TypeScript                     // "#!" and an execute bit
	TypeELFOther                   // ELF relocatable or core file
)

func (t FileType) String() string {
	switch t {
	case TypeExecutable:
		return "elf-executable"
	case TypeLibrary:
		return "elf-library"
	case TypeScript:
		return "script"
	case TypeELFOther:
		return "elf"
	}
	return "data"
}

// Runnable reports whether the kernel would execute a file of this type.
func (t FileType) Runnable() bool { return t == TypeExecutable || t == TypeScript }

// SniffSize is how many leading bytes Sniff looks at: enough for the ELF
// header and the program headers of any ordinary binary (they follow the
// 64-byte header; a dozen of 56 bytes each is typical). Program headers
// placed beyond it count as absent: such a PIE shows as a library, which is
// still reported.
const SniffSize = 8 << 10

// Sniff classifies a file from its first bytes (at most SniffSize are
// used) and its mode. head may be truncated anywhere; a damaged or
// truncated ELF header makes the file TypeELFOther (ELF magic, unknown
// kind), never an error.
func Sniff(head []byte, mode fs.FileMode) FileType {
	if len(head) > SniffSize {
		head = head[:SniffSize]
	}
	if bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return sniffELF(head)
	}
	if bytes.HasPrefix(head, []byte("#!")) && mode&0o111 != 0 {
		return TypeScript
	}
	return TypeData
}

// sniffELF reads the ELF header and program headers by hand: debug/elf
// wants the section headers too, which sit at the end of the file, beyond a
// bounded read.
func sniffELF(head []byte) FileType {
	if len(head) < 20 {
		return TypeELFOther
	}
	var bo binary.ByteOrder
	switch head[elf.EI_DATA] {
	case byte(elf.ELFDATA2LSB):
		bo = binary.LittleEndian
	case byte(elf.ELFDATA2MSB):
		bo = binary.BigEndian
	default:
		return TypeELFOther
	}
	var phoff uint64
	var phentsize, phnum int
	switch head[elf.EI_CLASS] {
	case byte(elf.ELFCLASS64):
		if len(head) < 64 {
			return TypeELFOther
		}
		phoff = bo.Uint64(head[32:])
		phentsize, phnum = int(bo.Uint16(head[54:])), int(bo.Uint16(head[56:]))
	case byte(elf.ELFCLASS32):
		if len(head) < 52 {
			return TypeELFOther
		}
		phoff = uint64(bo.Uint32(head[28:]))
		phentsize, phnum = int(bo.Uint16(head[42:])), int(bo.Uint16(head[44:]))
	default:
		return TypeELFOther
	}
	switch elf.Type(bo.Uint16(head[16:])) {
	case elf.ET_EXEC:
		return TypeExecutable
	case elf.ET_DYN:
	default:
		return TypeELFOther
	}
	// ET_DYN is a shared object or a PIE program; a program asks for an
	// interpreter. (A static PIE does not: it shows as a library, which is
	// still reported.) Program headers beyond head count as absent.
	if phentsize < 4 {
		return TypeLibrary
	}
	for i := 0; i < phnum; i++ {
		off := phoff + uint64(i)*uint64(phentsize)
		if off > uint64(len(head)-4) {
			break
		}
		if elf.ProgType(bo.Uint32(head[off:])) == elf.PT_INTERP {
			return TypeExecutable
		}
	}
	return TypeLibrary
}

// LibraryName reports whether a file name looks like a shared library:
// "libc.so", "libssl.so.3", "libfoo.so.1.2.3".
func LibraryName(p string) bool {
	base := path.Base(p)
	i := strings.Index(base, ".so")
	if i <= 0 {
		return false
	}
	rest := base[i+3:]
	return rest == "" || rest[0] == '.'
}
