using System.CommandLine;

namespace ServerlessImaging.EndToEndBench;

/// <summary>Which parts of the benchmark to run.</summary>
internal enum BenchPart
{
    All,
    Transfer,
    Registrations,
}

/// <summary>What one benchmark run measures, from the command line.</summary>
internal sealed record BenchOptions(
    int Studies,
    int Instances,
    int Rounds,
    int Registrations,
    int Concurrency,
    TimeSpan PollInterval,
    int ProgressMilliseconds,
    BenchPart Only,
    bool Json,
    IReadOnlyDictionary<string, string> AppSettings,
    IReadOnlyDictionary<string, string> RelaySettings)
{
    /// <summary>Registrations one meeting accepts at most (its capacity limit); each part uses one meeting.</summary>
    public const int MaxRegistrations = 1000;

    public bool RunsTransfer => Only is BenchPart.All or BenchPart.Transfer;

    public bool RunsRegistrations => Only is BenchPart.All or BenchPart.Registrations;

    /// <summary>How the client follows a registration, for the printed tables.</summary>
    public string StatusReads => PollInterval > TimeSpan.Zero ? $"polled every {PollInterval.TotalMilliseconds:0} ms" : "followed with waiting reads (afterVersion)";

    /// <summary>The command line: options, their defaults and range checks.</summary>
    internal sealed class CommandLine
    {
        public Option<int> Studies { get; } = Positive("--studies", 3, "Studies of the transfer patient, spread round-robin over the three site PACS.");

        public Option<int> Instances { get; } = Positive("--instances", 50, "Instances per study (512x512x16-bit CT, ~525 KB each).");

        public Option<int> Rounds { get; } = Positive("--rounds", 3, "Transfer rounds (a new patient each round; ours and the baseline alternate who goes first).");

        public Option<int> Registrations { get; } = Positive("--registrations", 60, "Small registrations (one tiny study each) for the rate measurement.");

        public Option<int> Concurrency { get; } = Positive("--concurrency", 8, "Registrations in flight at once.");

        public Option<int> PollMilliseconds { get; } = NonNegative("--poll-ms", 0, "0: follow each registration with waiting reads (GET /registrations/{id}?afterVersion=N, answered at its next step); N > 0: poll GET /registrations/{id} every N ms instead.");

        public Option<int> ProgressMilliseconds { get; } = Positive("--relay-progress-ms", 2000, "The relays' least interval between two progress events (their shipped default; tools/run-local uses 250).");

        public Option<BenchPart> Only { get; } = new("--only") { Description = "Run only one part: Transfer or Registrations.", DefaultValueFactory = _ => BenchPart.All };

        public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON summary object as the last line." };

        public Option<string[]> AppSettings { get; } = new("--app-setting") { Description = "KEY=VALUE: an app setting (environment variable) over the run's, e.g. DurableTask__MaxQueuePollingInterval=00:00:00.100; repeatable.", AllowMultipleArgumentsPerToken = false };

        public Option<string[]> RelaySettings { get; } = new("--relay-setting") { Description = "KEY=VALUE: a relay setting over the run's, e.g. Relay__Channel__MaxPollIntervalMilliseconds=100; repeatable.", AllowMultipleArgumentsPerToken = false };

        public RootCommand Root { get; }

        public CommandLine()
        {
            Registrations.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() > MaxRegistrations)
                {
                    r.AddError($"--registrations must be at most {MaxRegistrations} (one meeting's capacity).");
                }
            });
            Rounds.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() > MaxRegistrations)
                {
                    r.AddError($"--rounds must be at most {MaxRegistrations}.");
                }
            });
            Root = new RootCommand("End-to-end benchmark: our registration path vs getscu + curl STOW-RS, registrations per minute, peak memory.")
            {
                Studies, Instances, Rounds, Registrations, Concurrency, PollMilliseconds, ProgressMilliseconds, Only, Json, AppSettings, RelaySettings,
            };
            foreach (var settings in new[] { AppSettings, RelaySettings })
            {
                settings.Validators.Add(r =>
                {
                    foreach (var pair in r.GetValueOrDefault<string[]>() ?? [])
                    {
                        if (pair.IndexOf('=', StringComparison.Ordinal) < 1)
                        {
                            r.AddError($"{settings.Name} takes KEY=VALUE, not '{pair}'.");
                        }
                    }
                });
            }
        }

        public BenchOptions Read(ParseResult parse) => new(
            parse.GetValue(Studies),
            parse.GetValue(Instances),
            parse.GetValue(Rounds),
            parse.GetValue(Registrations),
            parse.GetValue(Concurrency),
            TimeSpan.FromMilliseconds(parse.GetValue(PollMilliseconds)),
            parse.GetValue(ProgressMilliseconds),
            parse.GetValue(Only),
            parse.GetValue(Json),
            Pairs(parse.GetValue(AppSettings)),
            Pairs(parse.GetValue(RelaySettings)));

        private static Dictionary<string, string> Pairs(string[]? pairs) =>
            (pairs ?? []).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

        private static Option<int> NonNegative(string name, int defaultValue, string description)
        {
            var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 0)
                {
                    r.AddError($"{name} must be at least 0.");
                }
            });
            return option;
        }

        private static Option<int> Positive(string name, int defaultValue, string description)
        {
            var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<int>() < 1)
                {
                    r.AddError($"{name} must be at least 1.");
                }
            });
            return option;
        }
    }
}
