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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	credentialproviderv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

const (
	binaryName = "token-exchange-credential-provider"
	// maxRequestBytes bounds the request read from stdin: a request is an
	// image name, a token and a few annotations.
	maxRequestBytes = 1 << 20
	// tokenReviewTimeout bounds the call to the API server, well inside
	// the kubelet's own exec timeout.
	tokenReviewTimeout = 10 * time.Second
)

// Environment variables. None holds a secret.
const (
	EnvKubeconfig = "TOKEN_EXCHANGE_KUBECONFIG"
	EnvExecLog    = "TOKEN_EXCHANGE_EXEC_LOG"
	EnvFail       = "TOKEN_EXCHANGE_FAIL"
)

func main() {
	// client-go logs through klog; its lines would break the one-line
	// stderr reason the kubelet reports.
	klog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, runOptions{
		Args:      os.Args[1:],
		Getenv:    os.Getenv,
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		NewClient: newClient,
	})
	stop()
	os.Exit(code)
}

// runOptions are the process's inputs and outputs, so that tests can run
// it in-process.
type runOptions struct {
	Args   []string
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// NewClient builds the TokenReview client from a kubeconfig path.
	NewClient func(kubeconfig string) (kubernetes.Interface, error)
}

// invocation is one exec: what it logs and what it must never print.
type invocation struct {
	opts    runOptions
	entry   execLogEntry
	secrets []string
}

// run executes the plugin and returns the exit code.
func run(ctx context.Context, o runOptions) int {
	inv := &invocation{opts: o, entry: execLogEntry{Result: resultError}}
	fs := flag.NewFlagSet(binaryName, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "", "configuration file, JSON or YAML (required)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the API server that reviews tokens (default $"+EnvKubeconfig+")")
	mode := fs.String("mode", "", "serviceAccount or node; overrides the config's mode")
	if err := fs.Parse(o.Args); err != nil {
		return inv.fail(fmt.Errorf("arguments: %w", err))
	}
	switch {
	case fs.NArg() > 0:
		return inv.fail(fmt.Errorf("arguments: unexpected %q", fs.Args()))
	case *configPath == "":
		return inv.fail(errors.New("arguments: --config is required"))
	case *mode != "" && Mode(*mode) != ModeServiceAccount && Mode(*mode) != ModeNode:
		return inv.fail(fmt.Errorf("arguments: --mode %q: want %s or %s", *mode, ModeServiceAccount, ModeNode))
	}
	if *kubeconfig == "" {
		*kubeconfig = o.Getenv(EnvKubeconfig)
	}

	req, err := readRequest(o.Stdin)
	if err != nil {
		return inv.fail(err)
	}
	inv.entry.Image = req.Image
	inv.secrets = append(inv.secrets, req.ServiceAccountToken)
	cfg, err := LoadConfig(*configPath)
	if err != nil {
		return inv.fail(err)
	}
	inv.secrets = append(inv.secrets, cfg.secrets()...)

	ex := &Exchanger{
		Config:    cfg,
		Mode:      Mode(*mode),
		NewClient: func() (kubernetes.Interface, error) { return o.NewClient(*kubeconfig) },
	}
	knob := Failure(o.Getenv(EnvFail))
	if knob == "" {
		knob = cfg.Fail
	}
	if err := knob.validate(); err != nil {
		return inv.fail(fmt.Errorf("%s: %w", EnvFail, err))
	}
	if knob != "" {
		inv.entry.Mode = ex.mode(req)
		return inv.failOnPurpose(ctx, knob, req, cfg)
	}

	resp, res, err := ex.Exchange(ctx, req)
	inv.entry.Mode, inv.entry.ServiceAccount, inv.entry.Tenant = res.Mode, res.ServiceAccount, res.Tenant
	if err != nil {
		return inv.fail(err)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return inv.fail(fmt.Errorf("encoding response: %w", err))
	}
	inv.entry.Result = resultOK
	// The line is written before the response: a test that asked for the
	// log must not see a pull whose exec it cannot find.
	if err := appendExecLog(o.Getenv(EnvExecLog), inv.entry); err != nil {
		inv.report(err)
		return 1
	}
	if _, err := o.Stdout.Write(append(out, '\n')); err != nil {
		inv.report(fmt.Errorf("writing response: %w", err))
		return 1
	}
	return 0
}

// readRequest decodes one request from at most maxRequestBytes of r. Fields
// unknown here are ignored: a newer kubelet may send more.
func readRequest(r io.Reader) (*credentialproviderv1.CredentialProviderRequest, error) {
	var req credentialproviderv1.CredentialProviderRequest
	if err := json.NewDecoder(io.LimitReader(r, maxRequestBytes)).Decode(&req); err != nil {
		return nil, fmt.Errorf("%w: reading stdin (at most %d bytes of JSON): %w", ErrInvalidRequest, maxRequestBytes, err)
	}
	return &req, nil
}

// failOnPurpose acts out a failure knob. The exec log line comes first, so
// that a test can count execs that never answer.
func (inv *invocation) failOnPurpose(ctx context.Context, knob Failure, req *credentialproviderv1.CredentialProviderRequest, cfg *Config) int {
	inv.entry.Error = "failure knob " + string(knob)
	if err := appendExecLog(inv.opts.Getenv(EnvExecLog), inv.entry); err != nil {
		inv.report(err)
		return 1
	}
	switch knob {
	case FailHang:
		// Until the kubelet's exec timeout kills the process; the timer
		// keeps Go's deadlock detector from ending it first.
		select {
		case <-ctx.Done():
		case <-time.After(100 * 365 * 24 * time.Hour):
		}
		return 1
	case FailGarbage:
		_, _ = io.WriteString(inv.opts.Stdout, "this is not a CredentialProviderResponse\n")
		return 0
	case FailWrongKind:
		// Otherwise valid, with the node's credentials: a kubelet that
		// ignored the kind would visibly use them.
		resp := cfg.response(req.APIVersion, cfg.Node)
		resp.Kind = requestKind
		out, err := json.Marshal(resp)
		if err != nil {
			inv.report(err)
			return 1
		}
		_, _ = inv.opts.Stdout.Write(append(out, '\n'))
		return 0
	}
	inv.report(errors.New(inv.entry.Error))
	return 1
}

// fail logs the exec as failed, reports err and returns exit code 1.
func (inv *invocation) fail(err error) int {
	inv.entry.Result = resultError
	inv.entry.Error = inv.clean(err.Error())
	if logErr := appendExecLog(inv.opts.Getenv(EnvExecLog), inv.entry); logErr != nil {
		err = errors.Join(err, logErr)
	}
	inv.report(err)
	return 1
}

// report prints err as one line on stderr, without the token or any
// configured password.
func (inv *invocation) report(err error) {
	_, _ = fmt.Fprintf(inv.opts.Stderr, "%s: %s\n", binaryName, inv.clean(err.Error()))
}

// minRedactLen keeps short test passwords from mangling ordinary words; the
// messages never contain a secret by construction, the scrub is a second
// line of defence for what the API server sends back.
const minRedactLen = 8

func (inv *invocation) clean(msg string) string {
	for _, s := range inv.secrets {
		if len(s) >= minRedactLen {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// newClient builds the TokenReview client from a kubeconfig file. There is
// no in-cluster fallback: the plugin runs on the node, beside the kubelet.
func newClient(kubeconfig string) (kubernetes.Interface, error) {
	if kubeconfig == "" {
		return nil, fmt.Errorf("no kubeconfig: pass --kubeconfig or set %s", EnvKubeconfig)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	rc.Timeout = tokenReviewTimeout
	rc.UserAgent = binaryName
	// JSON both ways: every API server speaks it, and so do test servers.
	rc.ContentType = "application/json"
	rc.AcceptContentTypes = "application/json"
	return kubernetes.NewForConfig(rc)
}
