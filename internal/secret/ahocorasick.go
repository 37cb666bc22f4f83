package secret

// matcher is an Aho–Corasick automaton over ASCII-case-folded bytes,
// compiled to a dense DFA: one table lookup per input byte, no failure-link
// walking at scan time. Bytes that occur in no keyword share one input class,
// which keeps the table small (states × classes).
type matcher struct {
	class    [256]uint8 // folded byte -> input class; 0 = in no keyword
	nclass   int
	delta    []int32 // state*nclass + class -> next state*nclass
	outBase  int32   // states*nclass at or above this have output
	outStart []int32 // state -> first index into out
	out      []int32 // keyword ids, grouped by state (dictionary links folded in)
	kwLen    []int   // keyword id -> length in bytes
}

// hit is one keyword occurrence: the keyword id and the offset just past its
// last byte.
type hit struct {
	kw  int32
	end int
}

// lowerASCII folds A-Z to a-z and leaves every other byte alone.
func lowerASCII(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// newMatcher builds the automaton. Keywords are folded to lower case; empty
// keywords are ignored.
func newMatcher(keywords []string) *matcher {
	m := &matcher{kwLen: make([]int, len(keywords))}
	// Input classes: one per distinct folded byte used by a keyword.
	m.nclass = 1
	for _, k := range keywords {
		for i := 0; i < len(k); i++ {
			c := lowerASCII(k[i])
			if m.class[c] == 0 {
				if m.nclass == 255 {
					continue // cannot happen with sane keywords; byte then matches "other"
				}
				m.class[c] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}

	// Trie.
	type node struct {
		next map[uint8]int32
		fail int32
		outs []int32
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for id, k := range keywords {
		m.kwLen[id] = len(k)
		if k == "" {
			continue
		}
		s := int32(0)
		for i := 0; i < len(k); i++ {
			c := m.class[lowerASCII(k[i])]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].outs = append(nodes[s].outs, int32(id))
	}

	// Breadth-first: failure links, then the dense transition table. A
	// state's row is its parent-independent DFA row: explicit edges, else the
	// row of its failure state (already computed, as it is shallower).
	n := len(nodes)
	m.delta = make([]int32, n*m.nclass)
	queue := make([]int32, 0, n)
	for c := 0; c < m.nclass; c++ {
		if t, ok := nodes[0].next[uint8(c)]; ok && c != 0 {
			m.delta[c] = t
			nodes[t].fail = 0
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].outs = append(nodes[s].outs, nodes[f].outs...)
		row := m.delta[int(s)*m.nclass : int(s+1)*m.nclass]
		copy(row, m.delta[int(f)*m.nclass:int(f+1)*m.nclass])
		for c, t := range nodes[s].next {
			if c == 0 {
				continue
			}
			nodes[t].fail = m.delta[int(f)*m.nclass+int(c)]
			row[c] = t
			queue = append(queue, t)
		}
	}
	// Renumber: states without output first (the root stays 0), states
	// with output after them, so that the scan loop tests one comparison;
	// and store each transition premultiplied by nclass, so that the next
	// row is delta[s+class] with no multiplication.
	order := make([]int32, 0, n)
	for s := range nodes {
		if len(nodes[s].outs) == 0 {
			order = append(order, int32(s))
		}
	}
	m.outBase = int32(len(order)) * int32(m.nclass)
	for s := range nodes {
		if len(nodes[s].outs) > 0 {
			order = append(order, int32(s))
		}
	}
	newID := make([]int32, n)
	for i, old := range order {
		newID[old] = int32(i)
	}
	dense := make([]int32, n*m.nclass)
	for i, old := range order {
		for c := 0; c < m.nclass; c++ {
			dense[i*m.nclass+c] = newID[m.delta[int(old)*m.nclass+c]] * int32(m.nclass)
		}
	}
	m.delta = dense
	m.outStart = make([]int32, n+1)
	for i, old := range order {
		m.outStart[i] = int32(len(m.out))
		m.out = append(m.out, nodes[old].outs...)
	}
	m.outStart[n] = int32(len(m.out))
	return m
}

// scan feeds b through the automaton from the root and calls fn for every
// keyword occurrence, in order of end offset.
func (m *matcher) scan(b []byte, fn func(h hit)) {
	nc := int32(m.nclass)
	delta, class, outStart, out, outBase := m.delta, &m.class, m.outStart, m.out, m.outBase
	var s int32
	for i := 0; i < len(b); i++ {
		s = delta[s+int32(class[b[i]])]
		if s >= outBase {
			st := s / nc
			for _, kw := range out[outStart[st]:outStart[st+1]] {
				fn(hit{kw: kw, end: i + 1})
			}
		}
	}
}
