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

package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	internalapi "k8s.io/cri-api/pkg/apis"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"k8s.io/kubernetes/pkg/kubelet/cri/remote"
)

// defaultRootDir is the kubelet's default --root-dir.
const defaultRootDir = "/var/lib/kubelet"

// runtimeTimeout bounds the connection to the runtime and every call but a
// pull, as the kubelet's runtimeRequestTimeout does.
const runtimeTimeout = 2 * time.Minute

// startupCheckTimeout bounds the start-up call that proves the runtime
// answers, so that an absent runtime ends the run quickly with exit code 3.
const startupCheckTimeout = 10 * time.Second

// ImageServiceFactory connects to a CRI image service.
type ImageServiceFactory func(ctx context.Context, endpoint string, timeout time.Duration) (internalapi.ImageManagerService, error)

// KubeClientFactory builds an API client from a kubeconfig file.
type KubeClientFactory func(kubeconfig string) (kubernetes.Interface, error)

// Deps are the command's connections to the outside world. Tests replace
// them; DefaultDeps are the real ones.
type Deps struct {
	// Stdout receives the command's output.
	Stdout io.Writer
	// Stderr receives errors and warnings, one line each.
	Stderr io.Writer
	// NewImageService connects to the container runtime.
	NewImageService ImageServiceFactory
	// NewKubeClient connects to the API server.
	NewKubeClient KubeClientFactory
	// Now is the clock (the demo's cut-off for records prune).
	Now func() time.Time
	// Logger, when set, replaces the logger built from -v (tests, and the
	// demo's in-process runs).
	Logger *klog.Logger
}

// DefaultDeps returns the process's real dependencies.
func DefaultDeps() *Deps {
	return &Deps{
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		NewImageService: remote.NewImageService,
		NewKubeClient:   newKubeClient,
		Now:             time.Now,
	}
}

// complete fills unset dependencies with the real ones.
func (d *Deps) complete() *Deps {
	out := *d
	def := DefaultDeps()
	if out.Stdout == nil {
		out.Stdout = def.Stdout
	}
	if out.Stderr == nil {
		out.Stderr = def.Stderr
	}
	if out.NewImageService == nil {
		out.NewImageService = def.NewImageService
	}
	if out.NewKubeClient == nil {
		out.NewKubeClient = def.NewKubeClient
	}
	if out.Now == nil {
		out.Now = def.Now
	}
	return &out
}

// NewCommand returns the kubelet-imagectl command tree.
func NewCommand(deps *Deps) *cobra.Command {
	deps = deps.complete()
	root := &cobra.Command{
		Use:   "kubelet-imagectl",
		Short: "Run the kubelet's image manager for pods on a node (KEP-2535, ensure secret pulled images)",
		Long: `kubelet-imagectl runs the kubelet's image manager, with the
KubeletEnsureSecretPulledImages feature, for pods on a node: it decides whether
each container may use an image already on the node or must pull it with the
pod's credentials, pulls through the node's CRI runtime, and keeps the pull
records under <root-dir>/image_manager exactly as the kubelet does.

Exit codes: 0 every container admitted; 1 any container denied or failed;
2 bad flags, input files or configuration; 3 environment errors (runtime
unreachable, API server error or Pod not found, root dir unwritable or locked).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(deps.Stdout)
	root.SetErr(deps.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	root.CompletionOptions.DisableDefaultCmd = true
	logging := &loggingOptions{}
	logging.addFlags(root.PersistentFlags())
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		logger := logging.logger(deps, cmd.Flags().Changed("v"))
		cmd.SetContext(klog.NewContext(cmd.Context(), logger))
	}

	records := &cobra.Command{
		Use:   "records",
		Short: "Inspect, explain, verify, revoke, prune, migrate and downgrade the image pull records of a root dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Named from the registered commands so the message cannot
			// fall behind them.
			var names []string
			for _, c := range cmd.Commands() {
				if c.IsAvailableCommand() {
					names = append(names, c.Name())
				}
			}
			return &exitError{code: ExitUsage, err: fmt.Errorf(`"records" needs a subcommand: %s`, strings.Join(names, ", "))}
		},
	}
	records.AddCommand(newRecordsListCommand(deps), newRecordsPruneCommand(deps))
	records.AddCommand(newRecordsMigrateCommand(deps), newRecordsDowngradeCommand(deps))
	records.AddCommand(newRecordsExplainCommand(deps))
	records.AddCommand(newRecordsRevokeCommand(deps))
	records.AddCommand(newRecordsVerifyCommand(deps))
	root.AddCommand(newEnsureCommand(deps), records, newDemoCommand(deps))
	return root
}

// loggingOptions are the global logging flags.
type loggingOptions struct {
	verbosity int
}

// addFlags adds -v/--v.
func (o *loggingOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVarP(&o.verbosity, "v", "v", 0,
		"Log informational messages on stderr up to this klog verbosity (0 warnings, 2 decisions and pulls, 4 more). Without -v only errors are logged.")
}

// logger returns the logger of a run: deps.Logger when set, else a text
// logger on stderr that logs only errors unless -v was given, so that the
// output on stdout and the one-line errors are not buried in the events the
// image manager also logs.
func (o *loggingOptions) logger(deps *Deps, verbositySet bool) klog.Logger {
	if deps.Logger != nil {
		return *deps.Logger
	}
	logger := textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(o.verbosity), textlogger.Output(deps.Stderr)))
	if verbositySet {
		return logger
	}
	return klog.New(errorsOnlySink{LogSink: logger.GetSink()})
}

// errorsOnlySink passes errors and drops informational messages.
type errorsOnlySink struct {
	klog.LogSink
}

func (s errorsOnlySink) Enabled(int) bool { return false }

func (s errorsOnlySink) WithValues(keysAndValues ...any) klog.LogSink {
	return errorsOnlySink{LogSink: s.LogSink.WithValues(keysAndValues...)}
}

func (s errorsOnlySink) WithName(name string) klog.LogSink {
	return errorsOnlySink{LogSink: s.LogSink.WithName(name)}
}

// WithCallDepth keeps the caller's file and line correct in log lines.
func (s errorsOnlySink) WithCallDepth(depth int) klog.LogSink {
	if cd, ok := s.LogSink.(interface{ WithCallDepth(int) klog.LogSink }); ok {
		return errorsOnlySink{LogSink: cd.WithCallDepth(depth)}
	}
	return s
}

// Run runs kubelet-imagectl with args (without the program name) and
// returns the exit code. Errors are printed on one line to deps.Stderr.
func Run(ctx context.Context, args []string, deps *Deps) int {
	deps = deps.complete()
	cmd := NewCommand(deps)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	code := exitCodeOf(err)
	if err != nil && err != errNotAdmitted {
		fmt.Fprintf(deps.Stderr, "error: %s\n", oneLine(err.Error()))
	}
	return code
}
