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

package credentialprovider

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultRootDir is the kubelet's default root directory, searched for
// node-wide docker configs when NodeCredentialsOptions.RootDir is empty.
const DefaultRootDir = "/var/lib/kubelet"

// NodeCredentialsOptions say where node-wide credentials are read from.
type NodeCredentialsOptions struct {
	// DockerConfigPath is the kubelet's --docker-config. nil: search the
	// default locations. A pointer to "": node-wide credentials are
	// disabled. Any other value: read exactly that file (it must exist).
	DockerConfigPath *string
	// RootDir is the kubelet's root directory; empty means DefaultRootDir.
	RootDir string
	// HomeDir is the home directory to search; empty means $HOME. When both
	// are empty the home locations are skipped.
	HomeDir string
}

// NodeConfigCandidates returns the files NodeKeyring considers, in order:
// the explicit path alone if one is set (none when it is empty), else
// `<root-dir>/config.json`, `<root-dir>/.dockercfg`,
// `$HOME/.docker/config.json`, `$HOME/.dockercfg`.
func NodeConfigCandidates(opts NodeCredentialsOptions) []string {
	if opts.DockerConfigPath != nil {
		if *opts.DockerConfigPath == "" {
			return nil
		}
		return []string{*opts.DockerConfigPath}
	}
	root := opts.RootDir
	if root == "" {
		root = DefaultRootDir
	}
	candidates := []string{filepath.Join(root, "config.json"), filepath.Join(root, ".dockercfg")}
	home := opts.HomeDir
	if home == "" {
		home = os.Getenv("HOME")
	}
	if home != "" {
		candidates = append(candidates, filepath.Join(home, ".docker", "config.json"), filepath.Join(home, ".dockercfg"))
	}
	return candidates
}

// NodeConfigPath returns the node-wide docker config file NodeKeyring
// reads: the explicit path, or the first candidate that exists. It returns
// "" when node-wide credentials are disabled or no candidate exists. An
// explicit path that does not exist, or a candidate that cannot be
// inspected (permissions), is an error: silently falling through would read
// credentials the operator did not choose.
func NodeConfigPath(opts NodeCredentialsOptions) (string, error) {
	candidates := NodeConfigCandidates(opts)
	explicit := opts.DockerConfigPath != nil
	for _, c := range candidates {
		_, err := os.Stat(c)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, fs.ErrNotExist) && !explicit:
			continue
		default:
			return "", fmt.Errorf("node docker config: %w", err)
		}
	}
	return "", nil
}

// NodeKeyring returns a keyring of the node-wide credentials found by
// NodeConfigPath, each with a nil source. When there is no file it returns
// an empty keyring. A file that cannot be read or parsed is an error (and
// the caller should not start without the credentials it was given): the
// first file that exists wins, a broken one does not let a later one in.
func NodeKeyring(opts NodeCredentialsOptions) (DockerKeyring, error) {
	keyring := &BasicDockerKeyring{}
	path, err := NodeConfigPath(opts)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return keyring, nil
	}
	cfg, err := ReadDockerConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("node docker config: %w", err)
	}
	keyring.Add(nil, cfg)
	return keyring, nil
}
