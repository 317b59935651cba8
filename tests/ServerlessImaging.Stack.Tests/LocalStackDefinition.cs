using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Stack.Tests;

/// <summary>xunit finds collection definitions only in the test assembly, so each test project declares its own.</summary>
[CollectionDefinition(LocalStackFixture.CollectionName)]
public sealed class LocalStackDefinition : ICollectionFixture<LocalStackFixture>;
