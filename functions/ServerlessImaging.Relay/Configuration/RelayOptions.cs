namespace ServerlessImaging.Relay.Configuration;

/// <summary>How the relay fetches a study from its PACS.</summary>
public enum RetrieveMethod
{
    /// <summary>C-MOVE to the relay's own C-STORE SCP (the PACS must know the relay's AE title, host and port).</summary>
    Move,

    /// <summary>C-GET: instances come back on the same association (no inbound port).</summary>
    Get,
}

/// <summary>Everything the relay is configured with (section <c>Relay</c>; environment <c>Relay__…</c>).</summary>
public sealed class RelayOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Relay";

    /// <summary>The site this relay serves; names its command queue <c>relay-commands-&lt;SiteId&gt;</c>.</summary>
    public string SiteId { get; set; } = string.Empty;

    /// <summary>The queue channel to the cloud.</summary>
    public ChannelSettings Channel { get; set; } = new();

    /// <summary>The site PACS.</summary>
    public PacsSettings Pacs { get; set; } = new();

    /// <summary>The relay's own C-STORE SCP (C-MOVE destination).</summary>
    public ScpSettings Scp { get; set; } = new();

    /// <summary>Disk spool for instances waiting for upload.</summary>
    public SpoolSettings Spool { get; set; } = new();

    /// <summary>Deliveries of studies from the DICOM service into DICOM nodes of this site (issue 17).</summary>
    public DeliverySettings Delivery { get; set; } = new();

    /// <summary>Transfers (retrievals, deliveries) handled at once: the heavy commands.</summary>
    public int MaxConcurrentCommands { get; set; } = 2;

    /// <summary>Searches (FindStudies, ListSeries: one C-FIND association each) handled at once, beside the transfers.</summary>
    public int MaxConcurrentSearches { get; set; } = 4;

    /// <summary>Instances uploaded to staging at once per retrieval.</summary>
    public int UploadConcurrency { get; set; } = 8;

    /// <summary>Seconds between heartbeat events (each one C-ECHOes the PACS).</summary>
    public int HeartbeatSeconds { get; set; } = 60;

    /// <summary>Least interval between two progress events of one retrieval, in milliseconds.</summary>
    public int ProgressIntervalMilliseconds { get; set; } = 2000;

    /// <summary>
    /// A progress event goes out as soon as this many newly staged instances wait to be reported (besides every
    /// <see cref="ProgressIntervalMilliseconds"/>), listing them so the cloud stores them while the retrieval goes on.
    /// 0 (the default) reports no staged instances: the cloud then stores the study only after the retrieval completed.
    /// Off by default because it is not measured faster anywhere yet: on the local stack (staging in one Azurite process
    /// on the same 2 cores) it measured about 10-40 % slower end to end (tools/EndToEndBench README).
    /// </summary>
    public int StagedReportBatchSize { get; set; }
}

/// <summary>Queue channel settings: a connection string (local, Azurite) or service URIs with an Entra ID credential.</summary>
public sealed class ChannelSettings
{
    /// <summary>Storage connection string (local development and tests). A secret: supply it by environment, not appsettings.json.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Queue service endpoint, e.g. https://account.queue.core.windows.net (with <see cref="Credential"/>).</summary>
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Blob service endpoint for message bodies over 48 KiB (large retrieval manifests).</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>Entra ID credential kind with the URIs: <c>ManagedIdentity</c>, <c>ClientCertificate</c> (Azure Arc or a service principal), or <c>Default</c>.</summary>
    public string Credential { get; set; } = "Default";

    /// <summary>Tenant of the relay's service principal (ClientCertificate).</summary>
    public string? TenantId { get; set; }

    /// <summary>Client id of the relay's service principal or user-assigned identity.</summary>
    public string? ClientId { get; set; }

    /// <summary>Path of the PEM/PFX certificate of the service principal (ClientCertificate).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>
    /// Queue events are sent to: unset in production, meaning the site's own <c>relay-events-&lt;site&gt;</c> (the only
    /// events queue its credential can send to); tests isolate themselves with a queue of their own.
    /// </summary>
    public string? EventsQueue { get; set; }

    /// <summary>Create missing queues and containers (local stacks only).</summary>
    public bool CreateIfMissing { get; set; }

    /// <summary>Lease of a received command in seconds; renewed while the command runs.</summary>
    public int VisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>Longest wait between two polls of an empty command queue (each poll is a billed storage transaction).</summary>
    public int MaxPollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Deliveries after which a command is quarantined to <c>relay-poison-&lt;site&gt;</c>.</summary>
    public int MaxDeliveries { get; set; } = 5;
}

/// <summary>The site PACS.</summary>
public sealed class PacsSettings
{
    /// <summary>Called AE title of the PACS.</summary>
    public string AeTitle { get; set; } = string.Empty;

    /// <summary>Host name or address of the PACS.</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>DICOM port of the PACS.</summary>
    public int Port { get; set; } = 104;

    /// <summary>Calling AE title the relay presents (the PACS must accept it).</summary>
    public string CallingAeTitle { get; set; } = string.Empty;

    /// <summary>C-MOVE into the relay's SCP, or C-GET.</summary>
    public RetrieveMethod RetrieveMethod { get; set; } = RetrieveMethod.Move;

    /// <summary>Seconds to wait for the PACS between two PDUs of an operation.</summary>
    public int DimseTimeoutSeconds { get; set; } = 60;

    /// <summary>Seconds to connect and negotiate an association.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 15;

    /// <summary>DICOM TLS to the PACS (PS3.15 B.1), when the PACS offers it.</summary>
    public TlsSettings Tls { get; set; } = new();
}

/// <summary>TLS to the PACS.</summary>
public sealed class TlsSettings
{
    /// <summary>Wrap associations in TLS.</summary>
    public bool Enabled { get; set; }

    /// <summary>Name expected in the PACS certificate (defaults to <see cref="PacsSettings.Host"/>).</summary>
    public string? ServerName { get; set; }
}

/// <summary>The relay's C-STORE SCP, the destination of C-MOVE.</summary>
public sealed class ScpSettings
{
    /// <summary>AE title of the SCP (configured in the PACS as a move destination).</summary>
    public string AeTitle { get; set; } = string.Empty;

    /// <summary>Port the SCP listens on (only the PACS needs to reach it).</summary>
    public int Port { get; set; } = 11112;

    /// <summary>
    /// Address to listen on. Loopback by default, so that nothing off the host reaches the SCP until an operator names
    /// the relay's address on the PACS network (which the relay cannot guess: the PACS is configured with it). A
    /// loopback address with a PACS elsewhere is refused at start.
    /// </summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Addresses (<c>10.20.0.15</c>) and CIDR ranges (<c>10.20.0.0/28</c>) associations are accepted from; a connection
    /// from anywhere else is closed unread. Empty: the addresses <see cref="PacsSettings.Host"/> resolves to at start.
    /// </summary>
    public List<string> AllowedPeerAddresses { get; set; } = [];

    /// <summary>Calling AE titles accepted (some PACS send C-MOVE sub-operations from another AE). Empty: <see cref="PacsSettings.AeTitle"/>.</summary>
    public List<string> AllowedCallingAeTitles { get; set; } = [];

    /// <summary>DICOM TLS on the SCP, so that instances moved by the PACS are encrypted too (off unless a certificate is given).</summary>
    public ScpTlsSettings Tls { get; set; } = new();
}

/// <summary>TLS of the relay's SCP: the certificate it presents to the PACS.</summary>
public sealed class ScpTlsSettings
{
    /// <summary>PEM certificate (chain) of the SCP; setting it turns TLS on.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of that certificate, when not in the certificate file itself. Readable by the service user only.</summary>
    public string? KeyPath { get; set; }
}

/// <summary>Where instances wait for upload when memory is not enough.</summary>
public sealed class SpoolSettings
{
    /// <summary>Spool folder (created if missing; must be writable by the service user).</summary>
    public string Directory { get; set; } = Path.Combine(Path.GetTempPath(), "si-relay-spool");

    /// <summary>Most bytes the spool may hold; a retrieval waits (the PACS is held back) rather than exceed it.</summary>
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Most bytes of received instances held in memory awaiting upload before spilling to the spool.</summary>
    public long MaxMemoryBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>
/// Where the relay may deliver studies and read them from. Both lists are the site's decision, not the cloud's: a
/// delivery to a node or from a service not listed here is refused, so a compromised cloud cannot make the relay push
/// images anywhere on the hospital network nor fetch from (and present its credential to) an arbitrary URL.
/// Empty lists: deliveries are refused.
/// </summary>
public sealed class DeliverySettings
{
    /// <summary>DICOM nodes deliveries may go to (AE title, host and port must all match the command's).</summary>
    public List<DeliveryNodeSettings> AllowedDestinations { get; set; } = [];

    /// <summary>DICOMweb base URLs studies may be read from (the cloud DICOM service); compared scheme, host, port and path.</summary>
    public List<Uri> AllowedSources { get; set; } = [];

    /// <summary>Calling AE title presented to the destinations; empty: <see cref="PacsSettings.CallingAeTitle"/>.</summary>
    public string? CallingAeTitle { get; set; }

    /// <summary>Ask the destination by image-level C-FIND what it already holds, so nothing it has is sent again (a failure to answer is ignored).</summary>
    public bool QueryDestination { get; set; } = true;
}

/// <summary>One allowed delivery destination.</summary>
public sealed class DeliveryNodeSettings
{
    /// <summary>Called AE title.</summary>
    public string AeTitle { get; set; } = string.Empty;

    /// <summary>Host name or address.</summary>
    public string Host { get; set; } = string.Empty;

    /// <summary>DICOM port.</summary>
    public int Port { get; set; } = 104;
}
