using System.Buffers;

namespace ServerlessImaging.Dicom.Networking.Storage;

/// <summary>An instance arriving in a C-STORE sub-operation or request.</summary>
public sealed record IncomingInstance(string SopClassUid, string SopInstanceUid, string TransferSyntaxUid, string CallingAeTitle);

/// <summary>Where a stored instance ended up (path, blob name...), with its size.</summary>
public sealed record StoredInstance(IncomingInstance Instance, string Location, long DataSetBytes);

/// <summary>Destination for received instances. Implementations stream: they never receive a whole file at once.</summary>
public interface IInstanceSink
{
    ValueTask<IInstanceWriter> OpenAsync(IncomingInstance instance, CancellationToken ct);
}

/// <summary>
/// Receives one instance's data set bytes in order. <see cref="CommitAsync"/> makes the instance visible;
/// disposing without commit discards everything written (no partial instance is ever left behind).
/// </summary>
public interface IInstanceWriter : IAsyncDisposable
{
    ValueTask WriteAsync(ReadOnlySequence<byte> dataSetBytes, CancellationToken ct);
    ValueTask<StoredInstance> CommitAsync(CancellationToken ct);
}

/// <summary>The sink refused or failed to store an instance; the SCP answers the C-STORE with <see cref="Status"/>.</summary>
public sealed class InstanceRejectedException : UpperLayer.DicomNetworkException
{
    public InstanceRejectedException(ushort status, string message) : base(message) => Status = status;
    public InstanceRejectedException() { }
    public InstanceRejectedException(string message) : base(message) { }
    public InstanceRejectedException(string message, Exception inner) : base(message, inner) { }
    public ushort Status { get; } = Dimse.DimseStatus.CannotUnderstand;
}
