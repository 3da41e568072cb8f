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

// Package compatcli is the command line of the records-compat tools: each
// release-* module implements Release with the pull records code of the
// released k8s.io/kubernetes it imports, and its main calls Main.
//
//	records-compat version          {"kubernetes":"v1.34.4","writes":"kubelet.config.k8s.io/v1alpha1"}
//	records-compat read ROOT_DIR    one line per file, sorted: {"file":"pulled/sha256-...","object":{...}}
//	records-compat write ROOT_DIR   writes the documents on stdin, one JSON document per line
//
// read opens ROOT_DIR as the release's kubelet does (kubelets 1.35 and later
// rewrite older-version files while opening), lists every intent and record
// with the release's accessor, looks each one up again by its key, and
// prints each object in the release's own encoding under the name of its
// file. It fails (exit code 1, the release's errors on stderr) when the
// release reports any error or when a file the release should have read is
// missing from its lists. write decodes each document with the release's
// codec and writes it through the release's accessor. Exit code 2 is a
// usage error.
package compatcli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
)

// Release is the pull records code of one released k8s.io/kubernetes.
type Release interface {
	// WriteVersion is the apiVersion the release's file accessor writes.
	WriteVersion() string
	// Read opens rootDir with the release's file accessor and lists every
	// intent and record, each encoded by the release's codec. Lookups by
	// key that fail are errors too.
	Read(rootDir string) (*Objects, error)
	// Write decodes each document with the release's codec and writes the
	// object through the release's file accessor.
	Write(rootDir string, docs [][]byte) error
}

// Objects are the intents and records a release read.
type Objects struct {
	Intents []Object
	Records []Object
}

// Object is one intent or record.
type Object struct {
	// Key is the intent's image or the record's imageRef, which names the file.
	Key string
	// Data is the object in the release's encoding.
	Data []byte
}

// Line is one line of the read command's output.
type Line struct {
	// File is relative to image_manager/: pulling/sha256-... or pulled/sha256-...
	File string `json:"file"`
	// Object is the object in the release's encoding, compacted.
	Object json.RawMessage `json:"object"`
}

// Version is the output of the version command.
type Version struct {
	// Kubernetes is the version of the k8s.io/kubernetes module linked in.
	Kubernetes string `json:"kubernetes"`
	// Writes is the apiVersion the release writes.
	Writes string `json:"writes"`
}

// Main runs the command line and exits.
func Main(r Release) {
	os.Exit(Run(r, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Run runs the command line with args and returns the exit code.
func Run(r Release, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: records-compat version | read ROOT_DIR | write ROOT_DIR < documents")
		return 2
	}
	if len(args) == 0 {
		return usage()
	}
	var err error
	switch {
	case args[0] == "version" && len(args) == 1:
		err = json.NewEncoder(stdout).Encode(Version{Kubernetes: kubernetesVersion(), Writes: r.WriteVersion()})
	case args[0] == "read" && len(args) == 2:
		err = read(r, args[1], stdout)
	case args[0] == "write" && len(args) == 2:
		err = write(r, args[1], stdin)
	default:
		return usage()
	}
	if err != nil {
		fmt.Fprintf(stderr, "records-compat %s (k8s.io/kubernetes %s): %v\n", args[0], kubernetesVersion(), err)
		return 1
	}
	return 0
}

// kubernetesVersion is the version of k8s.io/kubernetes in the binary.
func kubernetesVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == "k8s.io/kubernetes" {
			return dep.Version
		}
	}
	return "unknown"
}

// fileName is the released kubelets' file name for key.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "sha256-" + hex.EncodeToString(sum[:])
}

func read(r Release, rootDir string, stdout io.Writer) error {
	objs, err := r.Read(rootDir)
	if err != nil {
		return err
	}
	var lines []Line
	seen := map[string]bool{}
	var errs []error
	add := func(dir string, objects []Object) {
		for _, o := range objects {
			file := dir + "/" + fileName(o.Key)
			if seen[file] {
				errs = append(errs, fmt.Errorf("%s listed twice", file))
				continue
			}
			seen[file] = true
			var buf bytes.Buffer
			if err := json.Compact(&buf, o.Data); err != nil {
				errs = append(errs, fmt.Errorf("%s: the release's encoding is not JSON: %w", file, err))
				continue
			}
			lines = append(lines, Line{File: file, Object: buf.Bytes()})
		}
	}
	add("pulling", objs.Intents)
	add("pulled", objs.Records)
	// Every file a released kubelet reads must be in its lists: its
	// readers skip directories, names without the sha256- prefix and
	// names ending in .tmp, and nothing else.
	for _, dir := range []string{"pulling", "pulled"} {
		entries, err := os.ReadDir(filepath.Join(rootDir, "image_manager", dir))
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasPrefix(name, "sha256-") || strings.HasSuffix(name, ".tmp") {
				continue
			}
			if file := dir + "/" + name; !seen[file] {
				errs = append(errs, fmt.Errorf("%s is not among the objects the release listed", file))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].File < lines[j].File })
	enc := json.NewEncoder(stdout)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return nil
}

func write(r Release, rootDir string, stdin io.Reader) error {
	var docs [][]byte
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			docs = append(docs, append([]byte(nil), line...))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading documents: %w", err)
	}
	return r.Write(rootDir, docs)
}
