using System.Runtime.CompilerServices;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Client;

/// <summary>
/// C-FINDs one after another on one association — a study search and the series and image queries it leads to — instead
/// of an association each: one set-up and one release for all of them, which matters to PACS that fork a process per
/// association. One query at a time. Disposing releases the association (aborts it if the release fails).
/// </summary>
public sealed class DicomQuerySession : IAsyncDisposable
{
    private readonly DicomAssociation _association;
    private readonly byte _presentationContextId;
    private readonly string _sopClass;

    internal DicomQuerySession(DicomAssociation association, byte presentationContextId, string sopClass)
    {
        _association = association;
        _presentationContextId = presentationContextId;
        _sopClass = sopClass;
    }

    /// <summary>C-FIND at <paramref name="level"/>: yields every match; breaking out early cancels that query only.</summary>
    public async IAsyncEnumerable<DicomDataset> FindAsync(QueryRetrieveLevel level, DicomDataset keys, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var identifier = await DicomClient.EncodeIdentifierAsync(level, keys, ct);
        await foreach (var bytes in DicomClient.FindOnAsync(_association, _presentationContextId, _sopClass, identifier, releaseWhenCancelled: false, ct))
        {
            yield return await DicomDatasetReader.ReadAsync(bytes, DicomTransferSyntax.ImplicitVRLittleEndian, cancellationToken: ct);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_association.IsOpen)
        {
            try
            {
                await _association.ReleaseAsync(CancellationToken.None);
            }
            catch (DicomNetworkException)
            {
                await _association.AbortAsync();
            }
        }

        await _association.DisposeAsync();
    }
}
