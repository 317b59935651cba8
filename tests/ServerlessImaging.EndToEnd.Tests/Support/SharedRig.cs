using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.EndToEnd.Tests.Support;

/// <summary>
/// One app and two relays (chu-nord and clinique-sud by C-GET) shared by the fault tests that kill nothing (malformed
/// messages, events for an unknown registration): started on first use, stopped when the suite ends. Each test checks
/// only the poison it added (a baseline taken before), so their order does not matter.
/// </summary>
public sealed class SharedRig : IAsyncLifetime
{
    private readonly LocalStackFixture stack = new();
    private readonly Lock gate = new();
    private Task<FaultRig>? rig;

    internal LocalStackFixture Stack => stack;

    public Task InitializeAsync() => stack.InitializeAsync();

    internal Task<FaultRig> GetAsync()
    {
        lock (gate)
        {
            return rig ??= FaultRig.StartAsync(stack, "shared",
            [
                RigSite.ByGet("nord", Pacs(stack, "chu-nord")),
                RigSite.ByGet("sud", Pacs(stack, "clinique-sud")),
            ]);
        }
    }

    internal static PacsAddress Pacs(LocalStackFixture stack, string site)
    {
        var pacs = stack.Endpoints.Site(site);
        return new PacsAddress(pacs.AeTitle, pacs.Host, pacs.DicomPort);
    }

    public async Task DisposeAsync()
    {
        if (rig is { IsCompletedSuccessfully: true })
        {
            await (await rig).DisposeAsync();
        }
    }
}
