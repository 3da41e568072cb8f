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

package framework

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// LocalRegistryOptions configures StartLocalRegistry.
type LocalRegistryOptions struct {
	// Name labels the registry in logs and errors.
	Name string
	// Dir holds the config, the storage and the logs. It must exist.
	Dir string
	// Users get htpasswd basic auth; none makes the registry anonymous.
	Users []Credential
	// CertsDir is containerd's CRI registry config_path
	// (E2E_CONTAINERD_CERTS_DIR). When set, a hosts.toml letting containerd
	// pull from the registry over plain HTTP is written there, and removed
	// by Close.
	CertsDir string
	// Binary is the registry executable; default docker-registry.
	Binary string
}

// LocalRegistry is a distribution registry this process runs, for tests
// that take a registry down and bring it back (the shared ones must stay
// up). Its storage and port survive Stop, so Start serves the same images
// at the same address again.
type LocalRegistry struct {
	Registry
	opts LocalRegistryOptions
	port int
	cmd  *exec.Cmd
	// exited is closed when the running process has been reaped.
	exited chan struct{}
}

// StartLocalRegistry writes a config for a registry on a free loopback port
// and starts it. Call Close when done.
func StartLocalRegistry(ctx context.Context, opts LocalRegistryOptions) (*LocalRegistry, error) {
	if opts.Binary == "" {
		opts.Binary = "docker-registry"
	}
	if opts.Name == "" {
		opts.Name = "local"
	}
	r := &LocalRegistry{opts: opts}
	r.Name = opts.Name
	r.Users = opts.Users
	r.AccessLog = AccessLog{Path: filepath.Join(opts.Dir, "access.log")}
	if err := r.writeHtpasswd(ctx); err != nil {
		return nil, err
	}
	// Another process may take the free port before the registry binds it:
	// then try another.
	var err error
	for range 5 {
		if r.port, err = freeLoopbackPort(); err != nil {
			return nil, err
		}
		r.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
		if err = r.writeConfig(); err != nil {
			return nil, err
		}
		if err = r.Start(ctx); err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if opts.CertsDir != "" {
		if err := writeHostsToml(opts.CertsDir, r.Host); err != nil {
			_ = r.Stop()
			return nil, err
		}
	}
	return r, nil
}

// Start starts the registry process (again, after Stop) and waits until
// it answers on /v2/. EADDRINUSE in the error chain means the port is taken.
func (r *LocalRegistry) Start(ctx context.Context) error {
	if r.cmd != nil {
		return fmt.Errorf("registry %s already running", r.Name)
	}
	// Appended to, so the log of earlier runs stays readable at its offsets.
	logFile, err := os.OpenFile(r.AccessLog.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logFile.Close() }()
	offset, err := r.AccessLog.Offset()
	if err != nil {
		return err
	}
	// Not CommandContext: the registry outlives the start-up context.
	cmd := exec.Command(r.opts.Binary, "serve", filepath.Join(r.opts.Dir, "config.yml"))
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting registry %s: %w", r.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.cmd, r.exited = cmd, exited

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + r.Host + "/v2/"
	for {
		if resp, err := client.Get(url); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				klog.FromContext(ctx).V(2).Info("Started registry", "name", r.Name, "host", r.Host, "pid", cmd.Process.Pid)
				return nil
			}
		}
		select {
		case <-exited:
			r.cmd = nil
			return r.exitError(offset)
		case <-ctx.Done():
			_ = r.Stop()
			return fmt.Errorf("registry %s at %s did not answer: %w", r.Name, r.Host, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exitError describes why the registry exited during start-up.
func (r *LocalRegistry) exitError(offset int64) error {
	log, _ := os.ReadFile(r.AccessLog.Path)
	if int64(len(log)) > offset {
		log = log[offset:]
	}
	msg := strings.TrimSpace(string(log))
	if len(msg) > 2000 {
		msg = msg[len(msg)-2000:]
	}
	err := fmt.Errorf("registry %s at %s exited during start-up: %s", r.Name, r.Host, msg)
	if bytes.Contains(log, []byte("address already in use")) {
		err = fmt.Errorf("%w (%w)", err, syscall.EADDRINUSE)
	}
	return err
}

// Stop kills the registry process; pulls from it then fail to connect.
// Stopping a stopped registry does nothing.
func (r *LocalRegistry) Stop() error {
	if r.cmd == nil {
		return nil
	}
	cmd, exited := r.cmd, r.exited
	r.cmd = nil
	// A signal to an already exited process fails harmlessly.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-exited
	return nil
}

// Close stops the registry and removes its hosts.toml; the storage stays in
// Dir.
func (r *LocalRegistry) Close() error {
	err := r.Stop()
	if r.opts.CertsDir != "" {
		err = errors.Join(err, os.RemoveAll(filepath.Join(r.opts.CertsDir, r.Host)))
	}
	return err
}

func (r *LocalRegistry) writeHtpasswd(ctx context.Context) error {
	if len(r.opts.Users) == 0 {
		return nil
	}
	var entries bytes.Buffer
	for _, u := range r.opts.Users {
		// -i: the password comes on stdin, not in the process list.
		cmd := exec.CommandContext(ctx, "htpasswd", "-Bin", u.Username)
		cmd.Stdin = strings.NewReader(u.Password)
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("htpasswd for %s: %w", u.Username, err)
		}
		entries.Write(bytes.TrimSpace(out))
		entries.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(r.opts.Dir, "htpasswd"), entries.Bytes(), 0o600)
}

func (r *LocalRegistry) writeConfig() error {
	// Level debug: only debug lines name the authenticated user (AccessLog).
	config := fmt.Sprintf(`version: 0.1
log:
  level: debug
  formatter: json
  fields:
    registry: %s
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
`, r.Name, filepath.Join(r.opts.Dir, "data"), r.Host, RandomSuffix())
	if len(r.opts.Users) > 0 {
		config += fmt.Sprintf(`auth:
  htpasswd:
    realm: e2e-%s
    path: %s
`, r.Name, filepath.Join(r.opts.Dir, "htpasswd"))
	}
	return os.WriteFile(filepath.Join(r.opts.Dir, "config.yml"), []byte(config), 0o600)
}

// freeLoopbackPort returns a port nothing listens on now.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeHostsToml lets containerd's CRI plugin pull from host over plain
// HTTP (containerd reads certs.d on every pull).
func writeHostsToml(certsDir, host string) error {
	dir := filepath.Join(certsDir, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	content := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n  skip_verify = true\n",
		"http://"+host, "http://"+host)
	return os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(content), 0o644)
}
