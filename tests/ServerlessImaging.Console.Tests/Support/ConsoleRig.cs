using System.Globalization;
using System.Net;
using Microsoft.Azure.Cosmos;
using Microsoft.Playwright;
using ServerlessImaging.DevToken;
using ServerlessImaging.Dicom.Networking.Client;
using ServerlessImaging.LocalRun;
using ServerlessImaging.LocalRun.Processes;
using Xunit.Abstractions;
using SitePacs = ServerlessImaging.LocalRun.SitePacs;
using ServerlessImaging.RegionGenerator.Manifest;
using ServerlessImaging.RegionGenerator.Writing;
using ServerlessImaging.Testing.Http;
using ServerlessImaging.Testing.Isolation;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Console.Tests.Support;

/// <summary>
/// What the browser tests run against, started once for the test class: the standalone host (console, viewer and the
/// DICOMweb proxy served from the repository) and one relay for chu-nord by C-GET, as real processes (run-local's
/// <see cref="ChildProcess"/>), isolated from other tests by a Cosmos database and a site id of their own; a patient unique
/// to the run with the region generator's chest CT phantom C-STOREd into chu-nord's Orthanc; Debian's Chromium through
/// Playwright (no browser download).
/// </summary>
public sealed class ConsoleRig : IAsyncLifetime
{
    /// <summary>Slices of the test's CT phantom: enough for a volume, few enough to keep the retrieval to seconds.</summary>
    public const int PhantomSlices = 12;

    /// <summary>Debian's package.</summary>
    private const string Chromium = "/usr/bin/chromium";

    private readonly LocalStackFixture stack = new();
    private readonly List<ChildProcess> processes = [];
    private readonly string databaseName = UniqueNames.CosmosDatabase("console");
    private string cosmosConnectionString = string.Empty;
    private IPlaywright? playwright;

    internal ApiSession Api { get; private set; } = null!;

    public Uri AppUrl { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string SiteId { get; } = UniqueNames.Queue("console-nord");

    /// <summary>The test patient (unique family name and birth date: no other test's search matches them).</summary>
    public string FamilyName { get; } = "CONSOLE" + UniqueNames.PatientSuffix();

    public DateOnly BirthDate { get; } = new DateOnly(1935, 1, 1).AddDays(Random.Shared.Next(0, 365 * 55));

    public string PhantomStudyUid { get; private set; } = null!;

    /// <summary>Screenshots of this run (printed by each test): .local/test-results/screenshots/.</summary>
    public string ScreenshotDirectory { get; private set; } = null!;

    private Dictionary<string, string> Tokens { get; } = [];

    public async Task InitializeAsync()
    {
        await stack.InitializeAsync();
        var root = stack.RepositoryRootPath;
        ScreenshotDirectory = Path.Combine(root, ".local", "test-results", "screenshots");
        Directory.CreateDirectory(ScreenshotDirectory);
        var stackJson = Path.Combine(root, ".local", "stack", "stack.json");
        var endpoints = ServerlessImaging.LocalRun.StackEndpoints.Load(stackJson);
        cosmosConnectionString = endpoints.CosmosConnectionString;
        var logs = Path.Combine(root, ".local", "console-tests", "logs", SiteId);
        Directory.CreateDirectory(logs);

        PhantomStudyUid = await StorePhantomAsync(endpoints.Sites.First(s => s.SiteId == "chu-nord"));

        AppUrl = new Uri($"http://127.0.0.1:{AppAndRelays.FreeLoopbackPort()}/");
        var app = AppAndRelays.AppEnvironment(endpoints, AppUrl, [SiteId]);
        foreach (var (key, value) in AppAndRelays.WebSettings(endpoints, root, AppUrl).Concat(new Dictionary<string, string>
        {
            ["Cosmos__DatabaseName"] = databaseName,
            ["Logging__LogLevel__Default"] = "Warning",
        }))
        {
            app[key] = value;
        }

        processes.Add(ChildProcess.StartDotnet("app", Built(root, "ServerlessImaging.StandaloneHost", "ServerlessImaging.StandaloneHost.dll"), app, root, logs));
        var pacs = endpoints.Sites.First(s => s.SiteId == "chu-nord");
        var spool = Path.Combine(logs, "spool");
        Directory.CreateDirectory(spool);

        // C-GET needs no inbound port (nothing to collide with run-local's or the fault suite's relays).
        var relay = new SiteRelayPlan(SiteId, "SI_RELAY_SUD", 11122, "Get").Environment(pacs with { SiteId = SiteId }, endpoints.StorageConnectionString, spool);
        processes.Add(ChildProcess.StartDotnet("relay", Built(root, "ServerlessImaging.Relay", "si-relay.dll"), relay, root, logs));

        Api = new ApiSession(AppUrl, stackJson);
        await Waiting.UntilAsync("the app's /healthz", TimeSpan.FromSeconds(90), async ct =>
        {
            EnsureRunning();
            return await Api.IsAliveAsync(ct);
        }, CancellationToken.None);
        await Waiting.UntilAsync("the relay's heartbeat (GET /sites)", TimeSpan.FromSeconds(90), async ct =>
        {
            EnsureRunning();
            var sites = SiteHealth.FromApi(await Api.SendAsync(HttpMethod.Get, "/sites", "admin", null, HttpStatusCode.OK, ct));
            return sites.Any(s => s.SiteId == SiteId && s.Online);
        }, CancellationToken.None);

        using (var issuer = DevTokenIssuer.FromStackJson(stackJson))
        {
            foreach (var role in new[] { "registrar", "coordinator", "auditor", "admin" })
            {
                Tokens[role] = issuer.Issue("console-test-" + role, [role], TimeSpan.FromMinutes(30));
            }
        }

        // Debian's Chromium, installed by tools/stack install (tools/test runs it; `up`, which the stack fixture runs,
        // leaves the browser out): Playwright's own browser download is never used.
        if (!File.Exists(Chromium))
        {
            var log = Path.Combine(logs, "stack-install.log");
            if (await ScriptRunner.RunAsync(Path.Combine(root, "tools", "stack"), ["install"], root, log, CancellationToken.None) != 0 || !File.Exists(Chromium))
            {
                throw new InvalidOperationException($"tools/stack install did not install {Chromium}: {ScriptRunner.Tail(log)}");
            }
        }

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    /// <summary>The repository root.</summary>
    public string RepositoryRoot => stack.RepositoryRootPath;

    /// <summary>The standalone host's build output of this test's configuration.</summary>
    public string AppAssembly => Built(stack.RepositoryRootPath, "ServerlessImaging.StandaloneHost", "ServerlessImaging.StandaloneHost.dll");

    /// <summary>Errors the pages logged (a failing test prints them).</summary>
    public System.Collections.Concurrent.ConcurrentBag<string> ConsoleErrors { get; } = [];

    /// <summary>Waits for <paramref name="selector"/>; on timeout fails with what the page shows and the errors it logged.</summary>
    public async Task<ILocator> ExpectAsync(IPage page, string selector, TimeSpan? timeout = null)
    {
        var locator = page.Locator(selector).First;
        try
        {
            await locator.WaitForAsync(new LocatorWaitForOptions { Timeout = (float)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds });
            return locator;
        }
        catch (TimeoutException)
        {
            var shown = await page.InnerTextAsync("body");
            throw new Xunit.Sdk.XunitException($"'{selector}' did not appear. The page shows:\n{shown}\nLogged errors:\n{string.Join('\n', ConsoleErrors)}");
        }
    }

    /// <summary>A bearer token of the stack's development key for <paramref name="role"/>.</summary>
    public string TokenFor(string role) => Tokens[role];

    /// <summary>
    /// A new browser page signed in as <paramref name="role"/> through the console's sign-in page: a pasted token, or the
    /// Development-only role button (<paramref name="withRoleButton"/>).
    /// </summary>
    public async Task<IPage> SignedInPageAsync(string role, bool withRoleButton = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, AcceptDownloads = true, Locale = "fr-FR" });
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                ConsoleErrors.Add($"{role}: {message.Text}");
            }
        };
        page.PageError += (_, error) => ConsoleErrors.Add($"{role}: {error}");
        await page.GotoAsync(new Uri(AppUrl, "console/#/connexion").ToString());
        if (withRoleButton)
        {
            await page.ClickAsync($"button[data-role={role}]");
        }
        else
        {
            await page.FillAsync("#token", TokenFor(role));
            await page.ClickAsync("#sign-in");
        }

        await ExpectAsync(page, "#nav a");
        return page;
    }

    /// <summary>Saves a full-page screenshot and returns (and prints) its path.</summary>
    public async Task<string> ScreenshotAsync(IPage page, string name, ITestOutputHelper output)
    {
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine("screenshot: " + path);
        return path;
    }

    /// <summary>The registration body of the test patient (strong traits, the four consent items).</summary>
    public object RegistrationBody() => new
    {
        patient = new
        {
            birthName = FamilyName,
            usageName = (string?)null,
            firstName = "Camille",
            birthDate = BirthDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            sex = "Female",
            ins = (object?)null,
        },
        consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = true },
        requester = new { id = "dr-console", name = "Dr Demandeur", email = (string?)null },
        expertiseRequested = false,
    };

    public void EnsureRunning()
    {
        if (processes.FirstOrDefault(p => p.HasExited) is { } dead)
        {
            throw new InvalidOperationException($"{dead.Name} exited: {ScriptRunner.Tail(dead.LogFile)} (log {dead.LogFile})");
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        playwright?.Dispose();
        Api?.Dispose();
        await ProcessGroups.StopAsync([.. processes.Select(p => p.Pid)], TimeSpan.FromSeconds(10));
        await DropDatabaseAsync();
    }

    // Best effort, like the fault suite: a leftover database only costs memory in the stand-in.
    private async Task DropDatabaseAsync()
    {
        if (cosmosConnectionString.Length == 0)
        {
            return;
        }

        try
        {
            using var cosmos = new CosmosClient(cosmosConnectionString, new CosmosClientOptions
            {
                ConnectionMode = ConnectionMode.Gateway,
                LimitToEndpoint = true,
                HttpClientFactory = () => new HttpClient(LocalCertificates.CreateHandlerTrustingLoopback()),
            });
            using var response = await cosmos.GetDatabase(databaseName).DeleteStreamAsync();
        }
        catch (HttpRequestException)
        {
        }
        catch (CosmosException)
        {
        }
    }

    // The region generator's phantom study for a patient of this run, written and C-STOREd into the site PACS.
    private async Task<string> StorePhantomAsync(SitePacs pacs)
    {
        var patient = new ManifestPatient
        {
            Key = "C" + UniqueNames.PatientSuffix(6),
            BirthName = FamilyName,
            UsageName = FamilyName,
            FirstName = "Camille",
            BirthDate = BirthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
            Sex = PatientSex.F,
            Records = [new ManifestPatientRecord { Site = "chu-nord", PatientId = "CON-" + FamilyName, PatientName = FamilyName + "^Camille", SpecificCharacterSet = "ISO_IR 192", Spelling = NameSpelling.Canonical }],
        };
        var study = CtPhantom.PlanStudy((ulong)Random.Shared.NextInt64(), patient, "chu-nord", PhantomSlices);
        var directory = Directory.CreateTempSubdirectory("si-console-");
        try
        {
            var series = study.Series[0];
            var files = new List<string>();
            foreach (var instance in series.Instances)
            {
                var path = Path.Combine(directory.FullName, instance.SopInstanceUid + ".dcm");
                await InstanceFileWriter.WriteAsync(path, patient, patient.Records[0], study, series, instance, CtPhantom.Create(instance.InstanceNumber, series.Instances.Count, 7), CancellationToken.None);
                files.Add(path);
            }

            var client = new DicomClient(new DicomClientOptions { Host = pacs.Host, Port = pacs.DicomPort, CallingAeTitle = "SI_TEST", CalledAeTitle = pacs.AeTitle });
            var stored = await client.StoreAsync(files);
            if (stored.Count(r => r.Succeeded) != files.Count)
            {
                throw new InvalidOperationException($"C-STORE into {pacs.AeTitle} stored {stored.Count(r => r.Succeeded)} of {files.Count} instances");
            }

            return study.StudyInstanceUid;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    // tests/<this>/bin/<Configuration>/<tfm>/ -> functions/<project>/bin/<Configuration>/<tfm>/.
    private static string Built(string root, string project, string file)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(root, "functions", project, "bin", tfm.Parent!.Name, tfm.Name, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build {project} first.");
    }
}

/// <summary>One rig (app, relay, browser) for every test class of this project.</summary>
[CollectionDefinition(Name)]
public sealed class ConsoleRigGroup : ICollectionFixture<ConsoleRig>
{
    public const string Name = "console rig";
}
