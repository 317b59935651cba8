using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests;

/// <summary>Shares one local stack start across every test class of this assembly.</summary>
[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
