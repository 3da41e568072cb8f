/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package imagepullrecords

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exactTime compares times including their location, so that a decoded
// object must be identical to its re-decoding, not merely the same instant.
var exactTime = cmp.Comparer(func(a, b time.Time) bool { return a == b })

// addGoldenSeeds adds every golden and broken file as a seed; the corpus
// under testdata/fuzz/<FuzzName>/ holds the same files and any regression.
func addGoldenSeeds(f *testing.F) {
	f.Helper()
	for _, pattern := range []string{"*.json", filepath.Join("broken", "*", "*.json")} {
		paths, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			rel, err := filepath.Rel("testdata", p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(readTestdata(f, rel))
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		record, current, err := DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("error %v does not wrap ErrDecode", err)
			}
			if record != nil || current {
				t.Fatalf("DecodeRecord returned %v, current=%v with an error", record, current)
			}
			return
		}
		encoded, err := EncodeRecord(record)
		if err != nil {
			t.Fatalf("EncodeRecord of a decoded record: %v", err)
		}
		again, current, err := DecodeRecord(encoded)
		if err != nil {
			t.Fatalf("DecodeRecord of %q: %v", encoded, err)
		}
		if !current {
			t.Errorf("re-encoded record is not current")
		}
		if diff := cmp.Diff(record, again, exactTime); diff != "" {
			t.Errorf("re-decoded record differs (-decoded +re-decoded):\n%s", diff)
		}
		reencoded, err := EncodeRecord(again)
		if err != nil {
			t.Fatalf("EncodeRecord of the re-decoded record: %v", err)
		}
		if !bytes.Equal(encoded, reencoded) {
			t.Errorf("encoding is not canonical:\n%q\n%q", encoded, reencoded)
		}
	})
}

func FuzzDecodeIntent(f *testing.F) {
	addGoldenSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		intent, current, err := DecodeIntent(data)
		if err != nil {
			if !errors.Is(err, ErrDecode) {
				t.Fatalf("error %v does not wrap ErrDecode", err)
			}
			if intent != nil || current {
				t.Fatalf("DecodeIntent returned %v, current=%v with an error", intent, current)
			}
			return
		}
		encoded, err := EncodeIntent(intent)
		if err != nil {
			t.Fatalf("EncodeIntent of a decoded intent: %v", err)
		}
		again, current, err := DecodeIntent(encoded)
		if err != nil {
			t.Fatalf("DecodeIntent of %q: %v", encoded, err)
		}
		if !current {
			t.Errorf("re-encoded intent is not current")
		}
		if diff := cmp.Diff(intent, again); diff != "" {
			t.Errorf("re-decoded intent differs (-decoded +re-decoded):\n%s", diff)
		}
		reencoded, err := EncodeIntent(again)
		if err != nil {
			t.Fatalf("EncodeIntent of the re-decoded intent: %v", err)
		}
		if !bytes.Equal(encoded, reencoded) {
			t.Errorf("encoding is not canonical:\n%q\n%q", encoded, reencoded)
		}
	})
}
