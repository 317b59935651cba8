using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Dicom.Networking.Tests.Support;

/// <summary>A DIMSE peer of the local stack.</summary>
public sealed record PacsPeer(string Name, string AeTitle, string Host, int Port)
{
    public override string ToString() => Name;
}

/// <summary>
/// The local stack's DIMSE peers, from the shared <see cref="LocalStackFixture"/> (which runs <c>tools/stack up</c> once per
/// test process). Test classes bind it in their constructor; fixtures that seed data call <see cref="EnsureStackAsync"/>.
/// </summary>
public static class Peers
{
    private static StackEndpoints? endpoints;

    /// <summary>Our calling AE; every PACS also knows it as move destination on <see cref="TestScpPort"/>.</summary>
    public const string CallingAe = "SI_TEST";

    public static void Bind(LocalStackFixture stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        endpoints = stack.Endpoints;
    }

    /// <summary>Starts (or reuses) the shared stack from a fixture that xunit creates before any test class.</summary>
    public static async Task EnsureStackAsync()
    {
        var stack = new LocalStackFixture();
        await stack.InitializeAsync();
        Bind(stack);
    }

    private static StackEndpoints Endpoints =>
        endpoints ?? throw new InvalidOperationException("Bind the LocalStackFixture first ([Collection(LocalStackFixture.CollectionName)] or IClassFixture).");

    public static int TestScpPort => Endpoints.CallingAe(CallingAe).Port;
    public static PacsPeer ChuNord => Site("Orthanc CHUNORD", "chu-nord");
    public static PacsPeer CliniqueSud => Site("Orthanc CLINSUD", "clinique-sud");
    public static PacsPeer ChEst => Site("dcmqrscp CHEST", "ch-est");

    private static PacsPeer Site(string name, string site)
    {
        var s = Endpoints.Site(site);
        return new PacsPeer(name, s.AeTitle, s.Host, s.DicomPort);
    }
}

/// <summary>The one-line collection definition the shared fixture needs in each test assembly.</summary>
[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
