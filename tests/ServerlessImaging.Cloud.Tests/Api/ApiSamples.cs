using ServerlessImaging.Testing.Isolation;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>Request bodies for the API tests; patient names are run-unique so a leak scan cannot be fooled by other tests.</summary>
internal sealed class ApiSamples
{
    public string BirthName { get; } = "LEFEVRE" + UniqueNames.PatientSuffix(6);

    public string UsageName { get; } = "MARTIN" + UniqueNames.PatientSuffix(6);

    public string FirstName { get; } = "Hélène" + UniqueNames.PatientSuffix(4);

    public const string BirthDate = "1961-04-02";

    /// <summary>Strings that must never appear in logs, audit records or error messages.</summary>
    public IEnumerable<string> PatientData =>
    [
        BirthName, UsageName, FirstName, FirstName.ToUpperInvariant(), BirthName[..7] + " ", BirthDate, "02/04/1961", "19610402",
    ];

    /// <summary>A meeting body with a delivery destination (issue 17): the meeting PACS behind <paramref name="siteId"/>'s relay.</summary>
    public static object MeetingDeliveringTo(string siteId, string aeTitle = "RCPPACS", string host = "127.0.0.1", int port = 11116) => new
    {
        title = "RCP thoracique CHU Nord",
        startsAt = "2030-05-14T14:00:00+02:00",
        site = "CHU Nord",
        capacity = 20,
        defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
        onCallRadiologist = (object?)null,
        onCallNuclearPhysician = (object?)null,
        autoSelect = new { mode = "Manual", maxStudies = 0 },
        retentionDays = 30,
        deliveryDestination = new { siteId, aeTitle, host, port },
    };

    public static object Meeting(string title = "RCP ORL CHRU de Tours", bool withRecipients = true, int capacity = 20, DateTimeOffset? startsAt = null) => new
    {
        title,
        startsAt = startsAt?.ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture) ?? "2030-05-14T14:00:00+02:00",
        site = "CHU Nord",
        capacity,
        defaultFilter = new { modalities = Array.Empty<string>(), date = new { kind = "None" } },
        onCallRadiologist = withRecipients ? new { name = "Radio Garde", email = "radio@example.org" } : null,
        onCallNuclearPhysician = withRecipients ? new { name = "Nucleaire Garde", email = "nucleaire@example.org" } : null,
        autoSelect = new { mode = "Manual", maxStudies = 0 },
        retentionDays = 30,
    };

    public object Registration(bool consent = true, bool expertise = false) => new
    {
        patient = new { birthName = BirthName, usageName = UsageName, firstName = FirstName, birthDate = BirthDate, sex = "Female", ins = (object?)null },
        consent = new { informedOfComputerisation = true, informedOfSharing = true, informedOfHdsHosting = true, noObjection = consent },
        requester = new { id = "dr-1", name = "Dr Demandeur", email = (string?)null },
        filterOverride = (object?)null,
        expertiseRequested = expertise,
    };

    public object PatientSearch() => new { birthName = BirthName, firstName = FirstName, birthDate = BirthDate, sex = "Female" };
}
