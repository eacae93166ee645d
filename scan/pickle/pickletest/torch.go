package pickletest

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
)

// memo writes memo operations the way CPython's pickler does: every
// memoizable object is PUT under the next index, and repeated globals and
// strings are fetched back with GET.
type memo struct {
	a     *Asm
	next  uint32
	cache map[string]uint32
}

func (m *memo) put() {
	if m.next < 256 {
		m.a.Op(opBINPUT, byte(m.next))
	} else {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], m.next)
		m.a.Op('r', b[:]...) // LONG_BINPUT
	}
	m.next++
}

func (m *memo) get(i uint32) {
	if i < 256 {
		m.a.Op(opBINGET, byte(i))
		return
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], i)
	m.a.Op('j', b[:]...) // LONG_BINGET
}

// cached emits the object named key once (with write) and GETs it after.
func (m *memo) cached(key string, write func()) {
	if i, ok := m.cache[key]; ok {
		m.get(i)
		return
	}
	write()
	m.cache[key] = m.next
	m.put()
}

// TorchDataPkl returns a data.pkl as torch.save writes it for a state dict
// of n float32 tensors of elems elements each (protocol 2, memoized,
// storages as persistent ids "0", "1", ...). Like CPython's pickler, the
// dict's items are written in batches of 1,000 (MARK ... SETITEMS; a last
// batch of one item is a plain SETITEM).
func TorchDataPkl(n int, elems int) []byte {
	a := &Asm{}
	m := &memo{a: a, cache: map[string]uint32{}}
	a.Proto(2)
	m.cached("OrderedDict", func() { a.Global("collections", "OrderedDict") })
	a.Op(opEMPTY_TUPLE).Reduce()
	m.put()
	const batch = 1000
	for i := 0; i < n; i++ {
		if i%batch == 0 && n-i > 1 {
			a.Mark()
		}
		a.Str(fmt.Sprintf("model.layers.%d.mlp.weight", i))
		m.put()
		m.cached("rebuild", func() { a.Global("torch._utils", "_rebuild_tensor_v2") })
		a.Mark()
		a.Mark()
		m.cached("storage", func() { a.Str("storage") })
		m.cached("FloatStorage", func() { a.Global("torch", "FloatStorage") })
		a.Str(fmt.Sprint(i))
		m.put()
		m.cached("cpu", func() { a.Str("cpu") })
		a.Int(int32(elems))
		a.Tuple()
		m.put()
		a.Op(opBINPERSID)
		a.Int(0)
		a.Int(int32(elems)).Tuple1()
		m.put()
		a.Int(1).Tuple1()
		m.put()
		a.Op(opNEWFALSE)
		m.cached("OrderedDict", func() { a.Global("collections", "OrderedDict") })
		a.Op(opEMPTY_TUPLE).Reduce()
		m.put()
		a.Tuple()
		m.put()
		a.Reduce()
		m.put()
		if last := i == n-1; (i+1)%batch == 0 || last {
			if last && i%batch == 0 {
				a.Setitem() // a batch of one item
			} else {
				a.Setitems()
			}
		}
	}
	// state_dict._metadata
	a.EmptyDict()
	m.put()
	a.Str("_metadata")
	m.put()
	m.cached("OrderedDict", func() { a.Global("collections", "OrderedDict") })
	a.Op(opEMPTY_TUPLE).Reduce()
	m.put()
	a.Setitem().Build().Stop()
	return a.Bytes()
}

// WriteTorchZip writes a PyTorch zip checkpoint of n float32 tensors of
// elems elements each, with zero-filled storages stored uncompressed, as
// torch.save lays it out.
func WriteTorchZip(w io.Writer, n, elems int) error {
	zw := zip.NewWriter(w)
	store := func(name string, write func(io.Writer) error) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			return err
		}
		return write(f)
	}
	if err := store("archive/data.pkl", func(f io.Writer) error { _, err := f.Write(TorchDataPkl(n, elems)); return err }); err != nil {
		return err
	}
	if err := store("archive/byteorder", func(f io.Writer) error { _, err := io.WriteString(f, "little"); return err }); err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for i := 0; i < n; i++ {
		err := store(fmt.Sprintf("archive/data/%d", i), func(f io.Writer) error {
			for left := int64(elems) * 4; left > 0; {
				k := min(left, int64(len(zeros)))
				if _, err := f.Write(zeros[:k]); err != nil {
					return err
				}
				left -= k
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := store("archive/version", func(f io.Writer) error { _, err := io.WriteString(f, "3\n"); return err }); err != nil {
		return err
	}
	return zw.Close()
}
